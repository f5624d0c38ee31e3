package waitingroom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

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

// maxMessageLen bounds an operator's broadcast, which goes to every shopper.
const maxMessageLen = 500

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
		if c.Value <= 0 || c.Value > maxOutflow {
			return fmt.Errorf("%w: outflow_per_second must be above 0 and at most %d", ErrInvalidSale, maxOutflow)
		}
	case ActionAddStock:
		if c.Value < 1 || c.Value > maxStock || c.Value != float64(int64(c.Value)) {
			return fmt.Errorf("%w: add must be a whole number between 1 and %d", ErrInvalidSale, maxStock)
		}
	case ActionPow:
		if c.Value < 0 || c.Value > MaxPowDifficulty || c.Value != float64(int64(c.Value)) {
			return fmt.Errorf("%w: difficulty must be a whole number between 0 and %d", ErrInvalidSale, MaxPowDifficulty)
		}
	case ActionMessage:
		if t := strings.TrimSpace(c.Text); t == "" || len(t) > maxMessageLen {
			return fmt.Errorf("%w: message must have 1 to %d characters", ErrInvalidSale, maxMessageLen)
		}
	default:
		return fmt.Errorf("%w: unknown action %q", ErrInvalidSale, c.Action)
	}
	return nil
}

// Control applies an operator's action to a sale and records it in the
// audit log. Changes to the plan (rate, stock, pow) go to Postgres first: a stock
// the order workers' guard does not know yet would turn good orders away.
func (o *Operator) Control(ctx context.Context, saleID string, c Control) (State, error) {
	if err := c.validate(); err != nil {
		return "", err
	}
	if _, err := o.catalog.Get(ctx, saleID); err != nil {
		return "", err
	}
	if err := o.catalog.applyPlanChange(ctx, saleID, c); err != nil {
		return "", err
	}
	value := c.Text
	if c.Action == ActionRate || c.Action == ActionAddStock || c.Action == ActionPow {
		value = strconv.FormatFloat(c.Value, 'f', -1, 64)
	}
	k := salekeys.For(saleID)
	state, err := controlScript.Run(ctx, o.rooms.rdb, []string{k.Meta, k.Events},
		string(c.Action), value, salekeys.EventsMaxLen).Text()
	if err != nil {
		return "", fmt.Errorf("%s sale %s: %w", c.Action, saleID, scriptError(err))
	}
	// A sold-out sale leaves the active list once settled; stock added to it
	// must bring it back, or no admitter would run it again.
	if State(state) != StateEnded {
		if err := o.rooms.rdb.SAdd(ctx, salekeys.Active, saleID).Err(); err != nil {
			return "", fmt.Errorf("list sale %s as active: %w", saleID, err)
		}
	}
	detail, _ := json.Marshal(map[string]any{"value": c.Value, "text": c.Text, "state": state})
	if err := o.catalog.audit(ctx, saleID, string(c.Action), c.Actor, detail); err != nil {
		return "", err
	}
	return State(state), nil
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
