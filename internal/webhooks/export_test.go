package webhooks

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// WithLease gives cfg a lane lease of length lease, renewed margin before
// its end past Timeout: short enough for a test to see it renewed.
func WithLease(cfg Config, lease, margin time.Duration) Config {
	cfg.leaseFor, cfg.renewMargin = lease, margin
	return cfg
}

// RecordData records, in tx, one event of typ about sale for each of data
// (their ids derived from their order), and returns each one's id and body
// as made before recording.
func RecordData(ctx context.Context, tx *sqlx.Tx, typ, sale string, data ...any) (ids []string, bodies [][]byte, err error) {
	events := make([]newEvent, len(data))
	for i, d := range data {
		if events[i], err = makeEvent(typ, sale, sale, d, time.Now(), sale, string(rune('a'+i))); err != nil {
			return nil, nil, err
		}
		ids, bodies = append(ids, events[i].id), append(bodies, events[i].body)
	}
	return ids, bodies, record(ctx, tx, events)
}
