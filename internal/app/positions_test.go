package app_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/waitingroom"
)

// tracked is one shopper of the randomized test, on whichever node it is
// connected to now.
type tracked struct {
	shopper shopperOn
	conn    *shopperclient.Conn
	in      *inbox
	node    int
	seen    int   // position messages of in already checked
	last    int64 // the last position pushed for its current place; 0 when it has none
}

// TestPushedPositionsMatchTheTrueRankThroughJoinsLeavesReconnectsAndAdmissions
// plays random joins, leaves and reconnects to the other node, with bursts of
// admission in between, and at each checkpoint waits for every waiting
// shopper's pushed position to equal its true rank in Redis. Across the whole
// run, no position pushed for a place ever rose.
func TestPushedPositionsMatchTheTrueRankThroughJoinsLeavesReconnectsAndAdmissions(t *testing.T) {
	sys := startNodes(t, 2, map[string]string{"FOYER_GRACE_PERIOD": "60s"})
	saleID := sys.createSale(t, map[string]any{"sku": "P-1", "name": "Positions", "stock": 1000,
		"outflow_per_second": 20})
	base := "/v1/admin/sales/" + saleID
	sys.admin(t, http.MethodPost, base+"/pause", nil, http.StatusOK)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	rng := rand.New(rand.NewPCG(7, 11))
	k := waitingroom.Keys(saleID)
	var all []*tracked

	connect := func(s *tracked, node int) {
		s.node = node
		s.conn, s.in = s.shopper.connect(t, ctx, sys.URLs[node], saleID)
		s.seen = 0
	}
	// check reads the shopper's new position messages: none may rise.
	check := func(s *tracked) {
		for ; ; s.seen++ {
			s.in.mu.Lock()
			var positions []int64
			for _, m := range s.in.msgs {
				if m.Type == "position" {
					positions = append(positions, m.Position)
				}
			}
			s.in.mu.Unlock()
			if s.seen >= len(positions) {
				return
			}
			p := positions[s.seen]
			if s.last > 0 && p > s.last {
				t.Fatalf("shopper %s: position rose from %d to %d", s.shopper.sess.ShopperID, s.last, p)
			}
			s.last = p
		}
	}

	for round := range 8 {
		for range 6 {
			switch op := rng.IntN(10); {
			case op < 5 || len(all) < 5: // a new shopper joins
				s := &tracked{shopper: newShopper(t, ctx, sys.URL)}
				connect(s, rng.IntN(2))
				if _, err := s.in.wait(ctx, "welcome"); err != nil {
					t.Fatal(err)
				}
				s.conn.Join(ctx)
				all = append(all, s)
			case op < 7: // someone waiting leaves
				s := all[rng.IntN(len(all))]
				if _, err := sys.Redis.ZScore(ctx, k.Queue, s.shopper.sess.ShopperID).Result(); err != nil {
					continue
				}
				// The leave is answered with left once its place is gone.
				// (A ping is no answer to wait for: the node answers one
				// only after 15 s of quiet.)
				s.conn.Send(ctx, map[string]string{"type": "leave"})
				if _, err := s.in.next(ctx, "left"); err != nil {
					t.Fatal(err)
				}
				check(s)
				s.last = 0 // its place is gone; a new one may be anywhere
			default: // someone reconnects to the other node, keeping its place
				s := all[rng.IntN(len(all))]
				check(s)
				s.conn.CloseNow()
				connect(s, 1-s.node)
			}
		}
		// A burst of admission.
		held := func() int64 { n, _ := sys.Redis.HGet(ctx, k.Meta, "held").Int64(); return n }
		before := held()
		sys.admin(t, http.MethodPost, base+"/resume", nil, http.StatusOK)
		burst, stop := context.WithTimeout(ctx, 15*time.Second)
		for held() < before+2 {
			if burst.Err() != nil {
				meta, _ := sys.Redis.HGetAll(ctx, k.Meta).Result()
				n, _ := sys.Redis.ZCard(ctx, k.Queue).Result()
				t.Fatalf("round %d: no admission burst: %v, %d waiting", round, meta, n)
			}
			if _, err := sys.Redis.XRead(ctx, &redis.XReadArgs{Streams: []string{k.Events, "$"}, Block: time.Second}).Result(); err != nil && ctx.Err() != nil {
				t.Fatal(err)
			}
		}
		stop()
		sys.admin(t, http.MethodPost, base+"/pause", nil, http.StatusOK)

		// Checkpoint: every waiting shopper's pushed position reaches its true rank.
		for _, s := range all {
			rank, err := sys.Redis.ZRank(ctx, k.Queue, s.shopper.sess.ShopperID).Result()
			if err != nil {
				check(s)
				s.last = 0 // admitted or gone: no place to follow
				continue
			}
			want := rank + 1
			settle, done := context.WithTimeout(ctx, 10*time.Second)
			for {
				check(s)
				if s.last == want {
					break
				}
				if _, err := s.in.next(settle, "position"); err != nil {
					t.Fatalf("round %d: shopper %s (node %d) shown %d, true rank %d: %v",
						round, s.shopper.sess.ShopperID, s.node, s.last, want, err)
				}
			}
			done()
		}
	}
	if len(all) < 10 {
		t.Fatalf("only %d shoppers took part", len(all))
	}
	t.Logf("%d shoppers, every pushed position matched the true rank at 8 checkpoints", len(all))
}
