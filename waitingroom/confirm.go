package waitingroom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Errors of confirming a reservation. Checkout re-exports them under the
// names its callers know; server/errors.go maps each to one code.
var (
	// ErrReservationConfirmed means the reservation was confirmed already, by
	// another request: its token has been used.
	ErrReservationConfirmed = errors.New("reservation already confirmed")
	// ErrReservationExpired means the hold lapsed, or was released, before
	// the shopper confirmed it.
	ErrReservationExpired = errors.New("reservation expired")
	// ErrOverLimit means the quantity is over the sale's per-shopper limit,
	// or over what is left of its per-customer limit for this shopper.
	ErrOverLimit = errors.New("quantity over the per-shopper limit")
	// ErrNotEnoughStock means fewer units are left than the quantity asks
	// for beyond the held one.
	ErrNotEnoughStock = errors.New("not enough stock for that quantity")
	// ErrCheckoutNotShop refuses a redeem in a sale whose checkout is
	// Foyer's own: only a shop checkout sale is redeemed by the shop.
	ErrCheckoutNotShop = errors.New("checkout not shop: this sale is checked out by Foyer, not redeemed by the shop")
	// ErrCheckoutIsShop refuses Foyer's checkout of a sale whose checkout is
	// the shop's: its units are sold by redeem only.
	ErrCheckoutIsShop = errors.New("checkout is shop: this sale is checked out by the shop, which redeems its tokens")
	// ErrProductRequired refuses a checkout of an event (a sale of several
	// products) that names no product.
	ErrProductRequired = errors.New("product required: this sale holds several products, and the checkout must name one")
	// ErrProductUnknown refuses a checkout naming a product the sale does
	// not hold.
	ErrProductUnknown = errors.New("product unknown: this sale holds no product of that sku")
	// ErrProductSoldOut means fewer units of the chosen product are left
	// than asked for; the shopper may choose another while its hold lasts.
	ErrProductSoldOut = errors.New("product sold out: choose another product")
	// ErrOverProductLimit means the quantity, with what the shopper bought
	// of the product already, is over the product's per-shopper limit.
	ErrOverProductLimit = errors.New("quantity over the product's per-shopper limit")
)

// Confirmation is a reservation confirmed by Confirm, as confirm.lua returns
// it, with the sale's price.
type Confirmation struct {
	Reservation string `json:"reservation"`
	Shopper     string `json:"shopper"`
	Txn         string `json:"txn"`
	PriceCents  int64  `json:"price_cents"`
	ConfirmedAt int64  `json:"confirmed_at"` // unix ms, Redis's clock
	AdmittedAt  int64  `json:"admitted_at"`  // unix ms, Redis's clock
	Quantity    int    `json:"quantity"`
	Currency    string `json:"currency"`
	// OrderRef is the shop's order reference of a reservation the shop
	// redeemed ("" for Foyer's checkout).
	OrderRef string `json:"order_ref,omitempty"`
	// Customer is the shop's customer id of a shopper whose session was
	// made from the shop's identity token (its join recorded it from
	// Pass.Customer), else "".
	Customer string `json:"customer,omitempty"`
	// Replayed is true when the request with this key digest had confirmed
	// the reservation already, and is answered again: nothing changed.
	Replayed bool `json:"replayed"`
	// SKU is the product an event's checkout chose ("" in a single-product
	// sale); PriceCents is then that product's price.
	SKU string `json:"sku,omitempty"`
}

// Confirm turns the shopper's held reservation into a sale of quantity units
// (the held one and, up to the sale's per-shopper limit, more from those
// still available), all in one script: the record, the stock, an outbox
// entry (see Outbox) and, for the last unit, the sale's end as sold out.
// keyDigest, when not "", is recorded with the confirmation so the same
// request sent again is answered as Replayed instead of
// ErrReservationConfirmed. It fails with ErrReservationUnknown,
// ErrReservationConfirmed, ErrReservationExpired, ErrOverLimit or
// ErrNotEnoughStock.
func (r *Rooms) Confirm(ctx context.Context, saleID, shopperID, reservationID string, quantity int, keyDigest string) (Confirmation, error) {
	return r.confirm(ctx, saleID, shopperID, reservationID, "", quantity, keyDigest, "")
}

// ConfirmProduct is Confirm naming the product the shopper chose: an event
// (a sale of several products) sells that product, and needs one
// (ErrProductRequired, ErrProductUnknown, ErrProductSoldOut,
// ErrOverProductLimit); a single-product sale takes its own sku or "".
func (r *Rooms) ConfirmProduct(ctx context.Context, saleID, shopperID, reservationID, product string, quantity int, keyDigest string) (Confirmation, error) {
	if product != "" && !ValidProductSKU(product) {
		return Confirmation{}, fmt.Errorf("confirm reservation %s of sale %s: %w", reservationID, saleID, ErrProductUnknown)
	}
	return r.confirm(ctx, saleID, shopperID, reservationID, product, quantity, keyDigest, "")
}

// Redeem is Confirm for the shop's own checkout: the shop took the money
// and names its order orderRef (not ""), which the reservation keeps for
// the order. The held unit alone is sold. Only a sale whose checkout is
// CheckoutShop is redeemed (else ErrCheckoutNotShop); the same request sent
// again (keyDigest, orderRef and product alike) is answered as Replayed.
// product is the SKU the shop sold, with the refusals of ConfirmProduct: an
// event's redeem must name one of its products, with a unit left and within
// its per-shopper limit; a single-product sale's takes its own sku or "".
func (r *Rooms) Redeem(ctx context.Context, saleID, shopperID, reservationID, keyDigest, orderRef, product string) (Confirmation, error) {
	if orderRef == "" {
		return Confirmation{}, fmt.Errorf("redeem reservation %s: no order reference", reservationID)
	}
	if product != "" && !ValidProductSKU(product) {
		return Confirmation{}, fmt.Errorf("redeem reservation %s of sale %s: %w", reservationID, saleID, ErrProductUnknown)
	}
	return r.confirm(ctx, saleID, shopperID, reservationID, product, 1, keyDigest, orderRef)
}

func (r *Rooms) confirm(ctx context.Context, saleID, shopperID, reservationID, product string, quantity int, keyDigest, orderRef string) (Confirmation, error) {
	ran, notReplicated := r.confirms.Do(ctx, saleID,
		[]any{reservationID, shopperID, EventsMaxLen, quantity, keyDigest, orderRef, product}, r.sendConfirms)
	if ran == nil { // not sent (its caller gave up first), or its batch's send failed: the error says which
		return Confirmation{}, fmt.Errorf("confirm reservation %s of sale %s: %w", reservationID, saleID, notReplicated)
	}
	raw, err := ran.Text()
	if err != nil {
		return Confirmation{}, fmt.Errorf("confirm reservation %s of sale %s: %w", reservationID, saleID, confirmError(err))
	}
	if notReplicated != nil {
		return Confirmation{}, fmt.Errorf("confirm reservation %s of sale %s: %w", reservationID, saleID, notReplicated)
	}
	var c Confirmation
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return Confirmation{}, fmt.Errorf("decode confirmation %s: %w", reservationID, err)
	}
	return c, nil
}

// A sale's confirmations come in bursts: the admitter lets a tick's
// shoppers out together, and each checks out as soon as it hears. Sent one
// by one, each costs the node and Redis a round trip of their own (a
// write, a read and a wake-up on both sides, a connection of the pool);
// those asked while one is on its way go together when it is back
// (gather.Line), in one pipeline and, on a Replicated client, under one
// WAIT.

// sendConfirms runs confirm.lua once for each of argLists, in one round
// trip to the sale's Redis (runDurable).
func (r *Rooms) sendConfirms(ctx context.Context, saleID string, argLists [][]any) ([]*redis.Cmd, []error) {
	k := Keys(saleID)
	ran, notReplicated := runDurable(ctx, r.rdb, confirmScript,
		[]string{k.Meta, k.Res, k.Batches, k.Outbox, k.Events, k.Shoppers, k.Journeys, k.Bought, k.Customers}, argLists)
	errs := make([]error, len(ran))
	for i := range errs {
		errs[i] = notReplicated
	}
	return ran, errs
}

func confirmError(err error) error {
	switch replyCode(err) {
	case "UNKNOWN_RESERVATION":
		return ErrReservationUnknown
	case "TOKEN_REUSED":
		return ErrReservationConfirmed
	case "RESERVATION_EXPIRED":
		return ErrReservationExpired
	case "OVER_LIMIT":
		return ErrOverLimit
	case "NOT_ENOUGH_STOCK":
		return ErrNotEnoughStock
	case "CUSTOMER_LIMIT", "OVER_CUSTOMER_LIMIT":
		return fmt.Errorf("%w: %s", ErrOverLimit, replyMessage(err))
	case "CHECKOUT_NOT_SHOP":
		return ErrCheckoutNotShop
	case "CHECKOUT_IS_SHOP":
		return ErrCheckoutIsShop
	case "PRODUCT_REQUIRED":
		return ErrProductRequired
	case "PRODUCT_UNKNOWN":
		return ErrProductUnknown
	case "PRODUCT_SOLD_OUT":
		return fmt.Errorf("%w: %s", ErrProductSoldOut, replyMessage(err))
	case "OVER_PRODUCT_LIMIT":
		return fmt.Errorf("%w: %s", ErrOverProductLimit, replyMessage(err))
	}
	return err
}

// Refund gives a cancelled reservation's units back to its sale, once, and
// lists the sale as active again so its admitter lets the next shoppers in.
func (r *Rooms) Refund(ctx context.Context, saleID, reservationID string, quantity int) error {
	k := Keys(saleID)
	err := refundScript.Run(ctx, r.rdb, []string{k.Meta, k.Res, k.Shoppers, k.Events, k.Bought},
		reservationID, quantity, EventsMaxLen).Err()
	if err != nil {
		return fmt.Errorf("return %d units of %s to sale %s: %w", quantity, reservationID, saleID, err)
	}
	if err := r.rdb.SAdd(ctx, ActiveSales, saleID).Err(); err != nil {
		return fmt.Errorf("list sale %s as active: %w", saleID, err)
	}
	return nil
}

// Outbox returns up to most confirmations that Confirm put in the sale's
// outbox before olderThan and that nobody has cleared yet (ClearOutbox):
// those whose publisher died, or failed, between confirming and publishing.
// An entry whose reservation cannot be read can never be published; it is
// cleared here and returned in dropped, for the caller to report.
func (r *Rooms) Outbox(ctx context.Context, saleID string, olderThan time.Time, most int64) (out []Confirmation, dropped []string, err error) {
	k := Keys(saleID)
	ids, err := r.rdb.ZRangeByScore(ctx, k.Outbox, &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(olderThan.UnixMilli(), 10), Count: most,
	}).Result()
	if err != nil || len(ids) == 0 {
		return nil, nil, err
	}
	raws, err := r.rdb.HMGet(ctx, k.Res, ids...).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("read outbox reservations of sale %s: %w", saleID, err)
	}
	price, err := r.rdb.HGet(ctx, k.Meta, "price_cents").Int64()
	if err != nil {
		return nil, nil, fmt.Errorf("read price of sale %s: %w", saleID, err)
	}
	currency, err := r.rdb.HGet(ctx, k.Meta, "currency").Result()
	if err != nil {
		return nil, nil, fmt.Errorf("read currency of sale %s: %w", saleID, err)
	}
	for i, raw := range raws {
		s, _ := raw.(string)
		var c Confirmation
		if err := json.Unmarshal([]byte(s), &c); err != nil {
			// Dropped rather than left to block the outbox behind it for good.
			r.rdb.ZRem(ctx, k.Outbox, ids[i])
			dropped = append(dropped, ids[i])
			continue
		}
		if c.SKU == "" { // an event's reservation keeps its product's price
			c.PriceCents = price
		}
		c.Currency = currency
		out = append(out, c)
	}
	return out, dropped, nil
}

// ClearOutbox takes published confirmations out of the sale's outbox.
func (r *Rooms) ClearOutbox(ctx context.Context, saleID string, reservationIDs ...string) error {
	if len(reservationIDs) == 0 {
		return nil
	}
	members := make([]any, len(reservationIDs))
	for i, id := range reservationIDs {
		members[i] = id
	}
	if err := r.rdb.ZRem(ctx, Keys(saleID).Outbox, members...).Err(); err != nil {
		return fmt.Errorf("clear %d outbox entries of sale %s: %w", len(reservationIDs), saleID, err)
	}
	return nil
}
