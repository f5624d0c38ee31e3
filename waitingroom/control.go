package waitingroom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/salekeys"
)

// Action is something an operator does to a running sale.
type Action string

const (
	ActionPause    Action = "pause"
	ActionResume   Action = "resume"
	ActionStop     Action = "stop"
	ActionRate     Action = "rate"      // Value: shoppers per second
	ActionAddStock Action = "add_stock" // Value: units to add
	ActionMessage  Action = "message"   // Text: shown to everyone waiting
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

// recordTimeout bounds the Postgres side of an action once it has begun. It
// does not follow the request's context: once Redis has taken an action,
// recording it must not depend on the client still being there.
const recordTimeout = 10 * time.Second

// Control is one operator action with its argument.
type Control struct {
	Action Action
	Value  float64
	Text   string
	Actor  string // who did it, for the audit log
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
	case ActionMessage:
		if strings.TrimSpace(c.Text) == "" {
			return fmt.Errorf("%w: message must have 1 to %d characters", ErrInvalidSale, maxMessageLen)
		}
		if why := textProblem(c.Text, maxMessageLen); why != "" {
			return fmt.Errorf("%w: message %s", ErrInvalidSale, why)
		}
	default:
		return fmt.Errorf("%w: unknown action %q", ErrInvalidSale, c.Action)
	}
	if why := textProblem(c.Actor, maxActorLen); why != "" {
		return fmt.Errorf("%w: actor %s", ErrInvalidSale, why)
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
	case ActionMessage:
		d["text"] = c.Text
	}
	b, _ := json.Marshal(d)
	return b
}

// Control applies an operator's action to a sale and records it in the audit
// log: both, or, when the action is refused or fails, neither.
//
// The order is what makes that so. A Postgres transaction locks the sale's
// row, makes the plan change (rate, stock, pow) and writes the audit row;
// control.lua then runs, and may refuse (an ended sale, a resume of an open
// one); only when it accepts does the transaction commit, with the state the
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
// commit did land after all. Only if that fails too does the call fail, with
// an internal error that says the action took effect; foyer reconcile then
// shows what differs. A Redis that does not answer the script leaves its
// outcome unknown: Postgres is rolled back, and the action may be sent again
// (every action but add_stock is the same twice; reconcile shows stock that
// Redis took and Postgres did not).
func (o *Operator) Control(ctx context.Context, saleID string, c Control) (State, error) {
	if err := c.validate(); err != nil {
		return "", err
	}
	pgctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
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
	k := salekeys.For(saleID)
	// On the detached context too: a client that goes away must not leave
	// the script's outcome unknown to us.
	state, err := controlScript.Run(pgctx, o.rooms.rdb, []string{k.Meta, k.Events},
		string(c.Action), value, salekeys.EventsMaxLen).Text()
	if err != nil {
		return "", fmt.Errorf("%s sale %s: %w", c.Action, saleID, scriptError(err))
	}
	_, err = tx.ExecContext(pgctx, `UPDATE admin_actions SET detail = $2 WHERE id = $1`, auditID, c.detail(state))
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		tx.Rollback() //nolint:errcheck // it holds the row lock rollForward takes
		if err := o.rollForward(pgctx, saleID, c, state, auditID); err != nil {
			return "", err
		}
	}
	if c.Action == ActionAddStock && State(state) != StateEnded {
		// Once more, for a retire that raced with the first listing; the
		// admitter's own recheck covers this one failing.
		o.rooms.rdb.SAdd(pgctx, salekeys.Active, saleID)
	}
	return State(state), nil
}

// listIfRestocked lists a sale as active before stock is added to it: a
// sold-out sale leaves the active list once settled, and stock added to it
// must bring it back, or no admitter would run it again. An ended sale is not
// listed, so that refusing stock for it changes nothing in Redis.
func (o *Operator) listIfRestocked(ctx context.Context, saleID string, c Control) error {
	if c.Action != ActionAddStock {
		return nil
	}
	state, err := o.rooms.rdb.HGet(ctx, salekeys.For(saleID).Meta, "state").Result()
	if errors.Is(err, redis.Nil) || State(state) == StateEnded {
		return nil // control.lua refuses it
	}
	if err != nil {
		return fmt.Errorf("read state of sale %s: %w", saleID, err)
	}
	if err := o.rooms.rdb.SAdd(ctx, salekeys.Active, saleID).Err(); err != nil {
		return fmt.Errorf("list sale %s as active: %w", saleID, err)
	}
	return nil
}

// rollForward records in Postgres an action Redis has taken, after the first
// attempt failed. auditID is the audit row the first attempt wrote: a row
// with that id exists only if its commit landed, as ids are never reused.
func (o *Operator) rollForward(ctx context.Context, saleID string, c Control, state string, auditID int64) error {
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
	// Locking the row waits for the first transaction to end, whichever way.
	if _, err := o.catalog.lock(ctx, tx, saleID); err != nil {
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
	if _, err := o.catalog.recordIn(ctx, tx, saleID, string(c.Action), c.Actor, c.detail(state)); err != nil {
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
