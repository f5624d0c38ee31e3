package waitingroom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"
)

// Action is something an operator does to a running sale.
type Action string

const (
	ActionPause    Action = "pause"
	ActionResume   Action = "resume"
	ActionStop     Action = "stop"
	ActionRate     Action = "rate"      // Value: shoppers per second
	ActionAddStock Action = "add_stock" // Value: units to add
	ActionMessage  Action = "message"   // Text: shown to everyone waiting; empty clears it
	ActionPow      Action = "pow"       // Value: proof-of-work difficulty for joining, 0 (off) to MaxPowDifficulty
)

// ErrBadState means the action does not apply to the sale's current state,
// such as resuming a sale that is not paused.
var ErrBadState = errors.New("action not allowed in the sale's state")

// maxMessageLen bounds an operator's broadcast, in characters: it goes to
// every shopper, and rides in every welcome.
const maxMessageLen = 500

// maxActorLen bounds who did an action, as the audit log records it.
const maxActorLen = 200

// defaultRecordTimeout bounds the Postgres side of an action once it has
// begun (Operator.recordTimeout). It does not follow the request's context:
// once Redis has taken an action, recording it must not depend on the client
// still being there.
const defaultRecordTimeout = 10 * time.Second

// Control is one operator action with its argument.
type Control struct {
	Action Action
	Value  float64
	Text   string
	Actor  string // who did it, for the audit log
	// Product, with add_stock, is the product of an event the units are
	// for (required in an event; a single-product sale takes its own sku
	// or none).
	Product string
}

func (c Control) validate() error {
	switch c.Action {
	case ActionPause, ActionResume, ActionStop:
	case ActionRate:
		if !(c.Value >= minOutflow && c.Value <= maxOutflow) { // refuses NaN too
			return fmt.Errorf("%w: outflow_per_second must be between %g and %d", ErrInvalidSale, minOutflow, maxOutflow)
		}
	case ActionAddStock:
		if !(c.Value >= 1 && c.Value <= maxStock) || c.Value != float64(int64(c.Value)) {
			return fmt.Errorf("%w: add must be a whole number between 1 and %d", ErrInvalidSale, maxStock)
		}
	case ActionPow:
		if !(c.Value >= 0 && c.Value <= MaxPowDifficulty) || c.Value != float64(int64(c.Value)) {
			return fmt.Errorf("%w: difficulty must be a whole number between 0 and %d", ErrInvalidSale, MaxPowDifficulty)
		}
	case ActionMessage: // a blank text clears the message (Control)
		if why := textProblem(c.Text, maxMessageLen); why != "" {
			return fmt.Errorf("%w: message %s", ErrInvalidSale, why)
		}
	default:
		return fmt.Errorf("%w: unknown action %q", ErrInvalidSale, c.Action)
	}
	if why := textProblem(c.Actor, maxActorLen); why != "" {
		return fmt.Errorf("%w: actor %s", ErrInvalidSale, why)
	}
	if c.Product != "" && (c.Action != ActionAddStock || !ValidProductSKU(c.Product)) {
		return fmt.Errorf("%w: product goes with add_stock only, and is a sku of 1 to %d characters", ErrInvalidSale, maxSKULen)
	}
	return nil
}

// detail is what the audit log keeps of the action: its argument, if it has
// one, and the state it left the sale in, once known.
func (c Control) detail(state string) []byte {
	d := map[string]any{}
	if state != "" {
		d["state"] = state
	}
	switch c.Action {
	case ActionRate, ActionAddStock, ActionPow:
		d["value"] = c.Value
		if c.Product != "" {
			d["product"] = c.Product
		}
	case ActionMessage:
		d["text"] = c.Text
		if c.Text == "" {
			d["cleared"] = true
		}
	}
	b, _ := json.Marshal(d)
	return b
}

// detailUnknown is the audit log's detail of an add_stock whose outcome in
// Redis is unknown: Postgres took the stock, Redis may not have.
func (c Control) detailUnknown() []byte {
	d := map[string]any{"value": c.Value, "outcome": "unknown"}
	if c.Product != "" {
		d["product"] = c.Product
	}
	b, _ := json.Marshal(d)
	return b
}

// Control applies an operator's action to a sale and records it in the audit
// log: both, or, when the action is refused or fails, neither.
//
// The order is what makes that so. A Postgres transaction locks the sale
// (Catalog.lock), makes the plan change (rate, stock, pow) and writes the
// audit row; control.lua then runs, and may refuse (an ended sale, a resume
// of an open one); only when it accepts does the transaction commit, with the state the
// action left the sale in added to the row. A refused action is rolled back,
// so Postgres never keeps a change Redis refused, and a row Postgres refuses
// fails the action before Redis was touched.
//
// Stock added in Redis before the commit cannot turn a good order away: the
// order workers' guard "sold + n <= stock" updates the same row, so it waits
// on the row lock and reads the new stock once the commit lands. Postgres
// thus knows of new stock no later than any order of it.
//
// Redis accepted, then the commit failed: the action is in effect, so it is
// recorded again (rolled forward) in a fresh transaction, unless the first
// commit did land after all, on a fresh context of its own. Only if that
// fails too does the call fail, with an internal error that says the action
// took effect; foyer reconcile then shows what differs.
//
// A Redis that does not answer the script leaves its outcome unknown. For
// add_stock, Postgres must never hold less stock than Redis, or shoppers
// Redis let in would have their orders refused by the workers' guard: the
// increase is committed anyway, its audit row marked "outcome": "unknown",
// and the call fails saying so. Stock in Postgres that Redis lacks is
// harmless (only Redis lets shoppers in) and foyer reconcile reports it. For
// the other actions Postgres is rolled back, and the action may be sent
// again: each is the same twice. The script is sent at most once (runOnce):
// go-redis would otherwise send it again after a read timeout.
func (o *Operator) Control(ctx context.Context, saleID string, c Control) (State, error) {
	if err := c.validate(); err != nil {
		return "", err
	}
	if c.Action == ActionMessage && strings.TrimSpace(c.Text) == "" {
		c.Text = "" // clears the message: shown to nobody, so blank is empty
	}
	pgctx, cancel := o.detached(ctx)
	defer cancel()
	tx, err := o.catalog.Begin(pgctx)
	if err != nil {
		return "", fmt.Errorf("%s sale %s: %w", c.Action, saleID, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := o.catalog.changePlan(ctx, tx, saleID, c); err != nil {
		return "", err
	}
	auditID, err := o.catalog.recordIn(ctx, tx, saleID, string(c.Action), c.Actor, c.detail(""))
	if err != nil {
		return "", err
	}
	if err := o.listIfRestocked(ctx, saleID, c); err != nil {
		return "", err
	}
	value := c.Text
	if c.Action == ActionRate || c.Action == ActionAddStock || c.Action == ActionPow {
		value = strconv.FormatFloat(c.Value, 'f', -1, 64)
	}
	k := Keys(saleID)
	// On the detached context too: a client that goes away must not leave
	// the script's outcome unknown to us.
	state, err := runOnce(pgctx, o.rooms.rdb, controlScript, []string{k.Meta, k.Events},
		string(c.Action), value, EventsMaxLen, c.Product).Text()
	detail := c.detail(state)
	unknown := err != nil && c.Action == ActionAddStock && !refusedByControl(err)
	if unknown {
		detail = c.detailUnknown()
	} else if err != nil {
		return "", fmt.Errorf("%s sale %s: %w", c.Action, saleID, scriptError(err))
	}
	if err := o.commit(ctx, tx, pgctx, saleID, c, detail, auditID); err != nil {
		return "", err
	}
	if unknown {
		// %v, not %w: "unavailable, nothing was done, retry" would be
		// wrong, and a retry would add the stock to Postgres twice.
		return "", fmt.Errorf("%s sale %s: redis did not say whether it took the stock; "+
			"postgres has it (run foyer reconcile before adding again): %v", c.Action, saleID, err)
	}
	if c.Action == ActionAddStock && State(state) != StateEnded {
		// Once more, for a retire that raced with the first listing; the
		// admitter's own recheck covers this one failing.
		o.rooms.rdb.SAdd(pgctx, ActiveSales, saleID)
	}
	return State(state), nil
}

// commit writes the audit row's final detail and commits tx, which holds the
// plan change; should that fail, it rolls the action forward in a fresh
// transaction, on a fresh context: the likeliest reason the commit failed is
// that pgctx ran out.
func (o *Operator) commit(ctx context.Context, tx *sqlx.Tx, pgctx context.Context, saleID string, c Control, detail []byte, auditID int64) error {
	_, err := tx.ExecContext(pgctx, `UPDATE admin_actions SET detail = $2 WHERE id = $1`, auditID, detail)
	if err == nil {
		err = tx.Commit()
	}
	if err == nil {
		return nil
	}
	tx.Rollback() //nolint:errcheck // it holds the lock rollForward takes
	fresh, cancel := o.detached(ctx)
	defer cancel()
	return o.rollForward(fresh, saleID, c, detail, auditID)
}

// refusedByControl reports whether err is control.lua refusing the action,
// which it does before it changes anything. Any other failure (a timeout, a
// lost connection, another error reply) leaves the outcome unknown.
func refusedByControl(err error) bool {
	switch replyCode(err) {
	case "NO_SALE", "SALE_ENDED", "BAD_STATE", "PRODUCT_REQUIRED", "PRODUCT_UNKNOWN":
		return true
	}
	return false
}

// onceCmd is a command go-redis must not send again once it may have
// reached Redis. The client retries a command whose reply timed out or whose
// connection broke, up to MaxRetries (3 by default), pipelines included;
// Cmder.NoRetry (go-redis v9.23) turns that off for one command, leaving
// only the replay of a command the client knows it never wrote. The shared
// client keeps its retries for every other, idempotent, command.
type onceCmd struct{ *redis.Cmd }

func (onceCmd) NoRetry() bool { return true }

// runOnce runs a script that is not safe to run twice, sending it at most
// once: EVALSHA, and, should Redis not know the script (NOSCRIPT, so it did
// not run), SCRIPT LOAD and EVALSHA once more. Script.Run would do the same
// through the client's retries.
func runOnce(ctx context.Context, rdb redis.UniversalClient, s *redis.Script, keys []string, args ...any) *redis.Cmd {
	evalsha := func() *redis.Cmd {
		cmdArgs := append([]any{"evalsha", s.Hash(), len(keys)}, toAny(keys)...)
		cmd := redis.NewCmd(ctx, append(cmdArgs, args...)...)
		_ = rdb.Process(ctx, onceCmd{cmd}) // the error is on cmd
		return cmd
	}
	cmd := evalsha()
	if replyCode(cmd.Err()) != "NOSCRIPT" {
		return cmd
	}
	if err := s.Load(ctx, rdb).Err(); err != nil {
		return cmd
	}
	return evalsha()
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// listIfRestocked lists a sale as active before stock is added to it: a
// sold-out sale leaves the active list once settled, and stock added to it
// must bring it back, or no admitter would run it again. An ended sale is not
// listed, so that refusing stock for it changes nothing in Redis.
func (o *Operator) listIfRestocked(ctx context.Context, saleID string, c Control) error {
	if c.Action != ActionAddStock {
		return nil
	}
	state, err := o.rooms.rdb.HGet(ctx, Keys(saleID).Meta, "state").Result()
	if errors.Is(err, redis.Nil) || State(state) == StateEnded {
		return nil // control.lua refuses it
	}
	if err != nil {
		return fmt.Errorf("read state of sale %s: %w", saleID, err)
	}
	if err := o.rooms.rdb.SAdd(ctx, ActiveSales, saleID).Err(); err != nil {
		return fmt.Errorf("list sale %s as active: %w", saleID, err)
	}
	return nil
}

// rollForward records in Postgres an action Redis has taken, after the first
// attempt failed. auditID is the audit row the first attempt wrote: a row
// with that id exists only if its commit landed, as ids are never reused.
func (o *Operator) rollForward(ctx context.Context, saleID string, c Control, detail []byte, auditID int64) error {
	notRecorded := func(err error) error {
		// %v, not %w: a network error here must not be told as
		// "unavailable, nothing was done", since the action was done.
		return fmt.Errorf("%s sale %s took effect but could not be recorded in postgres (run foyer reconcile): %v",
			c.Action, saleID, err)
	}
	tx, err := o.catalog.Begin(ctx)
	if err != nil {
		return notRecorded(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	// Locking the sale waits for the first transaction to end, whichever way.
	if _, err := o.catalog.lock(ctx, tx, saleID, false); err != nil {
		return notRecorded(err)
	}
	var landed bool
	if err := tx.GetContext(ctx, &landed, `SELECT EXISTS (SELECT 1 FROM admin_actions WHERE id = $1)`, auditID); err != nil {
		return notRecorded(err)
	}
	if landed {
		return nil
	}
	if err := o.catalog.changePlan(ctx, tx, saleID, c); err != nil {
		return notRecorded(err)
	}
	if _, err := o.catalog.recordIn(ctx, tx, saleID, string(c.Action), c.Actor, detail); err != nil {
		return notRecorded(err)
	}
	if err := tx.Commit(); err != nil {
		return notRecorded(err)
	}
	return nil
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID     int64           `db:"id" json:"id"`
	SaleID *string         `db:"sale_id" json:"sale_id"`
	Action string          `db:"action" json:"action"`
	Detail json.RawMessage `db:"detail" json:"detail"`
	Actor  string          `db:"actor" json:"actor"`
	At     time.Time       `db:"at" json:"at"`
}

// Audit returns the newest entries of the audit log, newest first.
func (o *Operator) Audit(ctx context.Context, limit int) ([]AuditEntry, error) {
	var entries []AuditEntry
	err := o.catalog.db.SelectContext(ctx, &entries,
		`SELECT id, sale_id, action, detail, actor, at FROM admin_actions ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return entries, nil
}
