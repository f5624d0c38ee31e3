package waitingroom

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// An operator's message goes to every shopper of a sale at once (Control,
// ActionMessage; an empty text clears it), or later: a scheduled message
// waits in the sale's slot in Redis (SaleKeys.Scheduled) and the admitter's
// tick of the sale (tick.lua), which runs every sale on one node at a time,
// shows it when its time comes, by Redis's clock, as if sent then. The
// schedule lives in Redis alone, beside the sale: a Redis that loses the
// sale loses its scheduled messages too (the audit log keeps them).

// MaxScheduledMessages bounds the messages one sale may have scheduled:
// each tick of the sale looks at them.
const MaxScheduledMessages = 20

// ErrMessageNotFound means no scheduled message of the sale has that id:
// it was shown already, cancelled, or never made.
var ErrMessageNotFound = errors.New("no such scheduled message")

// ScheduledMessage is an operator's message waiting for its time.
type ScheduledMessage struct {
	ID   string    `json:"id"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// ScheduleMessage schedules text to be shown to the sale's shoppers at at,
// which must be in the future and before the sale ends, and records it in
// the audit log: both, or neither. A sale holds at most MaxScheduledMessages.
func (o *Operator) ScheduleMessage(ctx context.Context, saleID, text string, at time.Time, actor string) (ScheduledMessage, error) {
	m := ScheduledMessage{ID: "m_" + strings.ToLower(rand.Text()[:10]), Text: text, At: at.UTC().Truncate(time.Millisecond)}
	if strings.TrimSpace(text) == "" {
		return m, fmt.Errorf("%w: a scheduled message must have 1 to %d characters", ErrInvalidSale, maxMessageLen)
	}
	if why := textProblem(text, maxMessageLen); why != "" {
		return m, fmt.Errorf("%w: message %s", ErrInvalidSale, why)
	}
	if why := textProblem(actor, maxActorLen); why != "" {
		return m, fmt.Errorf("%w: actor %s", ErrInvalidSale, why)
	}
	if !m.At.After(o.now()) {
		return m, fmt.Errorf("%w: at must be in the future", ErrInvalidSale)
	}
	err := o.messageAction(ctx, saleID, "message_scheduled", actor, m, func(ctx context.Context, p *Plan) error {
		if !m.At.Before(p.EndsAt) {
			return fmt.Errorf("%w: at must be before the sale ends, %s", ErrInvalidSale, p.EndsAt.UTC().Format(time.RFC3339))
		}
		k := Keys(saleID)
		err := scheduleScript.Run(ctx, o.rooms.rdb, []string{k.Meta, k.Scheduled},
			"add", m.ID, m.At.UnixMilli(), m.Text, MaxScheduledMessages).Err()
		if replyCode(err) == "TOO_MANY" {
			return fmt.Errorf("%w: %s", ErrInvalidSale, replyMessage(err))
		}
		return scriptError(err)
	})
	return m, err
}

// CancelMessage cancels a scheduled message that has not been shown, and
// records it in the audit log; ErrMessageNotFound when there is none.
func (o *Operator) CancelMessage(ctx context.Context, saleID, id, actor string) error {
	if !plainChars(id, false) || len(id) > 64 {
		return fmt.Errorf("cancel message %q of sale %s: %w", id, saleID, ErrMessageNotFound)
	}
	return o.messageAction(ctx, saleID, "message_cancelled", actor, map[string]string{"id": id},
		func(ctx context.Context, _ *Plan) error {
			k := Keys(saleID)
			n, err := scheduleScript.Run(ctx, o.rooms.rdb, []string{k.Meta, k.Scheduled}, "cancel", id).Int()
			if err != nil {
				return scriptError(err)
			}
			if n == 0 {
				return fmt.Errorf("cancel message %s of sale %s: %w", id, saleID, ErrMessageNotFound)
			}
			return nil
		})
}

// messageAction runs apply (the Redis side) inside a Postgres transaction
// that locks the sale and holds the audit row, and commits only when apply
// succeeded. Both sides are the same twice (an add of the same id, a cancel
// of one gone), so a commit that fails after apply is answered with an
// error and the operator sends it again.
func (o *Operator) messageAction(ctx context.Context, saleID, action, actor string, detail any,
	apply func(context.Context, *Plan) error) error {
	pgctx, cancel := o.detached(ctx)
	defer cancel()
	tx, err := o.catalog.Begin(pgctx)
	if err != nil {
		return fmt.Errorf("%s for sale %s: %w", action, saleID, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	p, err := o.catalog.lock(ctx, tx, saleID, false)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(detail)
	if _, err := o.catalog.recordIn(ctx, tx, saleID, action, actor, body); err != nil {
		return err
	}
	if err := apply(pgctx, p); err != nil {
		return fmt.Errorf("%s for sale %s: %w", action, saleID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s for sale %s took effect but is not in the audit log: %v", action, saleID, err)
	}
	return nil
}

// ScheduledMessages lists the sale's scheduled messages, soonest first.
func (o *Operator) ScheduledMessages(ctx context.Context, saleID string) ([]ScheduledMessage, error) {
	zs, err := o.rooms.rdb.ZRangeWithScores(ctx, Keys(saleID).Scheduled, 0, -1).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("list scheduled messages of sale %s: %w", saleID, err)
	}
	out := make([]ScheduledMessage, 0, len(zs))
	for _, z := range zs {
		member, _ := z.Member.(string)
		id, text, _ := strings.Cut(member, " ")
		out = append(out, ScheduledMessage{ID: id, Text: text, At: time.UnixMilli(int64(z.Score)).UTC()})
	}
	return out, nil
}
