package checkout

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/salekeys"
)

var (
	//go:embed lua/refund.lua
	refundLua    string
	refundScript = redis.NewScript(refundLua)
)

// Stock gives the units of cancelled orders back to their sales.
type Stock struct {
	rdb redis.UniversalClient
}

// NewStock returns the stock kept in rdb.
func NewStock(rdb redis.UniversalClient) *Stock { return &Stock{rdb: rdb} }

// Return gives a cancelled reservation's units back to its sale, once, and
// lists the sale as active again so its admitter lets the next shoppers in.
func (s *Stock) Return(ctx context.Context, saleID, reservationID string, quantity int) error {
	k := salekeys.For(saleID)
	err := refundScript.Run(ctx, s.rdb, []string{k.Meta, k.Res, k.Shoppers, k.Events},
		reservationID, quantity, salekeys.EventsMaxLen).Err()
	if err != nil {
		return fmt.Errorf("return %d units of %s to sale %s: %w", quantity, reservationID, saleID, err)
	}
	if err := s.rdb.SAdd(ctx, salekeys.Active, saleID).Err(); err != nil {
		return fmt.Errorf("list sale %s as active: %w", saleID, err)
	}
	return nil
}
