package waitingroom

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/gather"
)

// Rooms is the Redis side of every sale's waiting room: the one place where
// the queue, the stock and the reservations change.
type Rooms struct {
	rdb      redis.UniversalClient
	confirms gather.Line[string, []any, *redis.Cmd] // confirm.lua's calls by sale: its arguments, its answer
}

// NewRooms returns the waiting rooms kept in rdb.
func NewRooms(rdb redis.UniversalClient) *Rooms { return &Rooms{rdb: rdb} }

// Load puts a sale's plan into Redis and lists the sale as active. Loading a
// sale that is already there changes nothing, so every node may do it.
func (r *Rooms) Load(ctx context.Context, p *Plan) error {
	k := Keys(p.ID)
	seed, hash := newSeed()
	args := []any{
		seed, hash,
		"name", p.Name, "sku", p.SKU, "price_cents", p.PriceCents, "currency", p.Currency,
		"list_price_cents", p.ListPriceCents,
		"starts_at_ms", p.StartsAt.UnixMilli(), "ends_at_ms", p.EndsAt.UnixMilli(),
		"prequeue_at_ms", p.PrequeueAt().UnixMilli(),
		"rate", strconv.FormatFloat(p.OutflowPerSecond, 'f', -1, 64),
		"ttl_ms", p.ReservationTTL().Milliseconds(), "stock", p.Stock, "limit", max(p.PerShopperLimit, 1),
		"pow_difficulty", p.PowDifficulty, "identity", string(p.IdentityModeOf()),
		"checkout", string(p.CheckoutModeOf()), "checkout_url", p.CheckoutURL,
		"per_customer_units", p.PerCustomerUnits, "per_customer_orders", p.PerCustomerOrdersOf(),
		"eligibility", string(p.EligibilityOf()),
	}
	products, err := productLoadArgs(p)
	if err != nil {
		return err
	}
	args = append(args, products...)
	if err := loadScript.Run(ctx, r.rdb, []string{k.Meta}, args...).Err(); err != nil {
		return fmt.Errorf("load sale %s: %w", p.ID, err)
	}
	if err := r.rdb.SAdd(ctx, ActiveSales, p.ID).Err(); err != nil {
		return fmt.Errorf("list sale %s as active: %w", p.ID, err)
	}
	return nil
}

// Active lists the ids of the sales loaded into Redis.
func (r *Rooms) Active(ctx context.Context) ([]string, error) {
	ids, err := r.rdb.SMembers(ctx, ActiveSales).Result()
	if err != nil {
		return nil, fmt.Errorf("list active sales: %w", err)
	}
	return ids, nil
}

// Place is where a shopper stands after joining: waiting with a ticket and a
// position, or already admitted with a reservation.
type Place struct {
	Ticket      int64
	Position    int64  // 1 for the head of the queue
	Prequeue    int64  // the prequeue ticket, while the shopper waits for the draw
	Reservation string // set when the shopper holds a reservation instead
	Txn         string // the journey's transaction id (from Join)
}

// Join gives the shopper a place in the sale's queue, or returns the place or
// reservation it already has. txn becomes the shopper's transaction id if this
// is its first join to the sale.
func (r *Rooms) Join(ctx context.Context, saleID, shopperID, txn string) (Place, error) {
	return r.JoinWith(ctx, saleID, shopperID, txn, Pass{})
}

// JoinWith is Join for a shopper that shows pass: an invited sale lets it
// in by the groups and the invite code pass holds (eligibility.go), and
// refuses it with ErrNotEligible otherwise. An invite code that is not
// ValidInvite is refused with ErrNotEligible too; the server checks it first.
func (r *Rooms) JoinWith(ctx context.Context, saleID, shopperID, txn string, pass Pass) (Place, error) {
	keys, err := joinKeys(saleID, shopperID, txn)
	if err != nil {
		return Place{}, err
	}
	args, err := joinArgs(shopperID, txn, pass)
	if err != nil {
		return Place{}, fmt.Errorf("join sale %s: %w", saleID, err)
	}
	reply, err := joinScript.Run(ctx, r.rdb, keys, args...).Slice()
	return placeOf(saleID, reply, err)
}

// joinArgs are the ARGV of join.lua.
func joinArgs(shopperID, txn string, pass Pass) ([]any, error) {
	if pass.Invite != "" && !ValidInvite(pass.Invite) {
		return nil, fmt.Errorf("%w: an invite code is 1 to %d of A-Z, a-z, 0-9 and -", ErrNotEligible, MaxInviteLen)
	}
	if utf8.RuneCountInString(pass.Customer) > MaxCustomerIDLen || !utf8.ValidString(pass.Customer) {
		return nil, fmt.Errorf("shopper %s: %w: its customer id is not 1 to %d characters of UTF-8",
			shopperID, ErrInvalidShopper, MaxCustomerIDLen)
	}
	return append([]any{shopperID, txn}, passArgs(pass)...), nil
}

// joinKeys checks a join's ids and returns the keys join.lua takes.
func joinKeys(saleID, shopperID, txn string) ([]string, error) {
	if !plainID(shopperID) || (txn != "" && !plainID(txn)) {
		return nil, fmt.Errorf("join sale %s as %q: %w", saleID, shopperID, ErrInvalidShopper)
	}
	return joinScriptKeys(saleID), nil
}

// joinScriptKeys is the one list of the KEYS join.lua takes, in its order:
// every caller of the script (and every test) builds them here, so none can
// pass one too few.
func joinScriptKeys(saleID string) []string {
	k := Keys(saleID)
	return []string{k.Meta, k.Queue, k.Journeys, k.Shoppers, k.Pre, k.Presort, k.Gone, k.Flags,
		k.Invited, k.Groups, k.Invites, k.Spent, k.Customers}
}

// placeOf reads join.lua's answer.
func placeOf(saleID string, reply []any, err error) (Place, error) {
	if err != nil {
		return Place{}, fmt.Errorf("join sale %s: %w", saleID, scriptError(err))
	}
	if len(reply) < 4 {
		return Place{}, fmt.Errorf("join sale %s: %w", saleID, errOddReply(reply))
	}
	place, ok := placeIn(reply)
	if !ok {
		return Place{}, fmt.Errorf("join sale %s: %w", saleID, errOddReply(reply))
	}
	place.Txn, _ = reply[3].(string)
	return place, nil
}

// placeIn reads the place join.lua and find.lua answer with: {"admitted",
// reservation}, {"prequeue", ticket} or {status, ticket, position}. ok is
// false for a reply of another shape, which a checked assertion turns into
// an error rather than a panic of the node.
func placeIn(reply []any) (p Place, ok bool) {
	if len(reply) < 2 {
		return Place{}, false
	}
	switch reply[0] {
	case "admitted":
		p.Reservation, ok = reply[1].(string)
		return p, ok
	case "prequeue":
		p.Prequeue, ok = reply[1].(int64)
		return p, ok
	}
	if len(reply) < 3 {
		return Place{}, false
	}
	var okPos bool
	p.Ticket, ok = reply[1].(int64)
	p.Position, okPos = reply[2].(int64)
	return p, ok && okPos
}

// errOddReply is a script's reply of a shape the code does not read.
func errOddReply(reply []any) error { return fmt.Errorf("unexpected script reply %v", reply) }

// Leave takes the shopper out of the sale's queue. It reports whether the
// shopper was waiting.
func (r *Rooms) Leave(ctx context.Context, saleID, shopperID string) (bool, error) {
	k := Keys(saleID)
	n, err := leaveScript.Run(ctx, r.rdb, []string{k.Meta, k.Queue, k.Gone, k.Events, k.Pre, k.Presort},
		shopperID, EventsMaxLen).Int()
	if err != nil {
		return false, fmt.Errorf("leave sale %s: %w", saleID, scriptError(err))
	}
	return n == 1, nil
}

// Reservation returns the shopper's reservation with this id: its record
// once confirmed or cancelled, or, while it is held, what its batch says. It
// fails with ErrReservationUnknown when the shopper holds none with this id.
func (r *Rooms) Reservation(ctx context.Context, saleID, shopperID, id string) (Reservation, error) {
	k := Keys(saleID)
	nonce, ticket, ok := ParseReservationID(id)
	if !ok {
		return Reservation{}, fmt.Errorf("get reservation %s of sale %s: %w", id, saleID, ErrReservationUnknown)
	}
	var record, batch, txn, named *redis.StringCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		record, batch = p.HGet(ctx, k.Res, id), p.HGet(ctx, k.Batches, nonce)
		txn, named = p.HGet(ctx, k.Journeys, shopperID), p.HGet(ctx, k.Shoppers, shopperID)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return Reservation{}, fmt.Errorf("get reservation %s of sale %s: %w", id, saleID, err)
	}
	var res Reservation
	if raw, err := record.Bytes(); err == nil {
		if err := json.Unmarshal(raw, &res); err != nil {
			return Reservation{}, fmt.Errorf("decode reservation %s: %w", id, err)
		}
		if res.Shopper != shopperID {
			return Reservation{}, fmt.Errorf("get reservation %s of sale %s: %w", id, saleID, ErrReservationUnknown)
		}
		return res, nil
	}
	if named.Val() != id || batch.Err() != nil {
		return Reservation{}, fmt.Errorf("get reservation %s of sale %s: %w", id, saleID, ErrReservationUnknown)
	}
	res = Reservation{ID: id, Shopper: shopperID, Ticket: ticket, Txn: txn.Val(), Status: "held"}
	if _, err := fmt.Sscan(batch.Val(), &res.ExpiresAtMs, &res.AdmittedAtMs); err != nil {
		return Reservation{}, fmt.Errorf("decode batch %s of sale %s: %w", nonce, saleID, err)
	}
	return res, nil
}

// Status is a sale's live state as Redis has it.
type Status struct {
	SaleID     string
	Name       string
	PriceCents int64
	Currency   string
	State      State
	StartsAt   time.Time
	EndsAt     time.Time
	Rate       float64
	Stock      int64 // total units of the sale
	Available  int64 // neither held nor sold
	Held       int64
	Sold       int64
	Mark       int64  // every ticket up to this one has left the queue
	Waiting    int64  // shoppers in the queue
	Message    string // the operator's latest message to everyone
	PrequeueAt time.Time
	SeedHash   string // the draw's commitment, from the prequeue on
	Seed       string // the draw's seed, from the start on
	Drawing    bool   // the prequeue's tickets are still being handed out
	// PowDifficulty is the proof of work asked of joiners; 0 is off.
	PowDifficulty int
	// Checkout and CheckoutURL are where admitted shoppers pay (Plan's
	// fields of the same names); a sale loaded before them is CheckoutFoyer.
	Checkout    CheckoutMode
	CheckoutURL string
	// ListPriceCents is the price before the sale's discount, 0 for a sale
	// without one (discount.go).
	ListPriceCents int64
	// Products are an event's products' figures, in the plan's order; nil
	// for a single-product sale (productstock.go).
	Products    []ProductStatus
	productSKUs []string
}

var statusFields = []string{"name", "price_cents", "currency", "state", "starts_at_ms", "ends_at_ms",
	"rate", "stock", "available", "held", "sold", "mark", "message", "prequeue_at_ms", "seed_hash", "seed", "drawing", "pow_difficulty",
	"checkout", "checkout_url", "list_price_cents", metaProducts}

// statusFieldArgs are statusFields boxed once, for every status read: HMGet
// would box each name at each read (22 objects of 16 bytes, at every
// arrival and every push tick). hmgetStatus copies them, which allocates
// nothing per name.
var statusFieldArgs = func() []any {
	args := make([]any, len(statusFields))
	for i, f := range statusFields {
		args[i] = f
	}
	return args
}()

// hmgetStatus is p.HMGet(ctx, meta, statusFields...) with the names boxed
// once (statusFieldArgs).
func hmgetStatus(ctx context.Context, p redis.Pipeliner, meta string) *redis.SliceCmd {
	args := make([]any, 2, 2+len(statusFieldArgs))
	args[0], args[1] = "hmget", meta
	cmd := redis.NewSliceCmd(ctx, append(args, statusFieldArgs...)...)
	_ = p.Process(ctx, cmd) // queued: its error is the pipeline's, read with the reply
	return cmd
}

// Status reads a sale's live state in one round trip, whatever the queue's
// size; an event's products take one more.
func (r *Rooms) Status(ctx context.Context, saleID string) (Status, error) {
	var read func() (Status, error)
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		read = pipeStatus(ctx, p, saleID)
		return nil
	})
	if err != nil {
		return Status{}, fmt.Errorf("read status of sale %s: %w", saleID, err)
	}
	st, err := read()
	if err != nil {
		return Status{}, err
	}
	return st, r.fillProducts(ctx, &st)
}

// pipeStatus adds the reads of a sale's status on p; read decodes them
// once p has run.
func pipeStatus(ctx context.Context, p redis.Pipeliner, saleID string) (read func() (Status, error)) {
	k := Keys(saleID)
	fields := hmgetStatus(ctx, p, k.Meta)
	waiting := p.ZCard(ctx, k.Queue)
	return func() (Status, error) {
		if err := cmp.Or(fields.Err(), waiting.Err()); err != nil {
			return Status{}, fmt.Errorf("read status of sale %s: %w", saleID, err)
		}
		v := fields.Val()
		if v[3] == nil {
			return Status{}, fmt.Errorf("read status of sale %s: %w", saleID, ErrSaleNotFound)
		}
		str := func(i int) string { s, _ := v[i].(string); return s }
		num := func(i int) int64 { n, _ := strconv.ParseInt(str(i), 10, 64); return n }
		rate, _ := strconv.ParseFloat(str(6), 64)
		skus, err := productSKUs(v[21])
		if err != nil {
			return Status{}, fmt.Errorf("read status of sale %s: %w", saleID, err)
		}
		return Status{
			SaleID: saleID, Name: str(0), PriceCents: num(1), Currency: str(2), State: State(str(3)),
			StartsAt: time.UnixMilli(num(4)), EndsAt: time.UnixMilli(num(5)), Rate: rate,
			Stock: num(7), Available: num(8), Held: num(9), Sold: num(10), Mark: num(11),
			Waiting: waiting.Val(), Message: str(12), PrequeueAt: time.UnixMilli(num(13)),
			SeedHash: str(14), Seed: str(15), Drawing: v[16] != nil, PowDifficulty: int(num(17)),
			Checkout: CheckoutMode(cmp.Or(str(18), string(CheckoutFoyer))), CheckoutURL: str(19),
			ListPriceCents: num(20), productSKUs: skus,
		}, nil
	}
}

// scriptError turns the error replies of the scripts into sentinel errors.
func scriptError(err error) error {
	switch replyCode(err) {
	case "NO_SALE":
		return ErrSaleNotFound
	case "SALE_ENDED":
		return ErrSaleEnded
	case "SOLD_OUT":
		return ErrSoldOut
	case "TOO_EARLY":
		return ErrTooEarly
	case "FLAGGED":
		return ErrFlagged
	case "IDENTITY_REQUIRED":
		return ErrIdentityRequired
	case "NOT_ELIGIBLE":
		return errNotInvited
	case "INVITE_USED":
		return errInviteUsed
	case "FENCED":
		return ErrFenced
	case "BAD_STATE":
		return fmt.Errorf("%w: %v", ErrBadState, err)
	case "PRODUCT_REQUIRED":
		return ErrProductRequired
	case "PRODUCT_UNKNOWN":
		return ErrProductUnknown
	}
	return err
}

// Find returns the place or reservation the shopper already has in the sale,
// creating none. ok is false when the shopper has neither.
func (r *Rooms) Find(ctx context.Context, saleID, shopperID string) (place Place, ok bool, err error) {
	k := Keys(saleID)
	reply, err := findScript.Run(ctx, r.rdb, []string{k.Meta, k.Queue, k.Gone, k.Shoppers, k.Pre}, shopperID).Slice()
	if err != nil {
		return Place{}, false, fmt.Errorf("find shopper in sale %s: %w", saleID, err)
	}
	if len(reply) == 0 {
		return Place{}, false, nil
	}
	place, ok = placeIn(reply)
	if !ok {
		return Place{}, false, fmt.Errorf("find shopper in sale %s: %w", saleID, errOddReply(reply))
	}
	return place, true, nil
}
