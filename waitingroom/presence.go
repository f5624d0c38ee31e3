package waitingroom

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/salekeys"
)

// Presence records which node holds which shopper's connection, so a shopper
// who leaves, or whose node dies, keeps its place for the grace period and
// then loses it, while one who reconnects anywhere in time keeps it.
type Presence struct {
	rdb  redis.UniversalClient
	node string
	// HeartbeatEvery is how often the node says it is alive. Defaults to 1s.
	HeartbeatEvery time.Duration
	// AliveFor is how long a heartbeat lasts: a node silent this long is
	// dead, and its shoppers count as away from then on. Defaults to 5s.
	AliveFor time.Duration
}

// NewPresence returns the presence of node, with the defaults documented on its fields.
func NewPresence(rdb redis.UniversalClient, node string) *Presence {
	return &Presence{rdb: rdb, node: node, HeartbeatEvery: time.Second, AliveFor: 5 * time.Second}
}

// Arrive records that a connection of the shopper opened on this node.
func (p *Presence) Arrive(ctx context.Context, saleID, shopperID string) error {
	k := salekeys.For(saleID)
	err := arriveScript.Run(ctx, p.rdb, []string{k.Nodes, k.Conns(p.node), k.Away}, p.node, shopperID).Err()
	if err != nil {
		return fmt.Errorf("shopper %s arrives at sale %s: %w", shopperID, saleID, err)
	}
	return nil
}

// Depart records that the shopper's last connection on this node closed.
func (p *Presence) Depart(ctx context.Context, saleID, shopperID string) error {
	k := salekeys.For(saleID)
	err := departScript.Run(ctx, p.rdb, []string{k.Nodes, k.Conns(p.node), k.Away},
		p.node, shopperID, k.Conns("")).Err()
	if err != nil {
		return fmt.Errorf("shopper %s departs from sale %s: %w", shopperID, saleID, err)
	}
	return nil
}

// Run keeps the node's heartbeat until ctx ends, then withdraws it, so the
// node's remaining shoppers are treated as away at once.
func (p *Presence) Run(ctx context.Context) error {
	key := salekeys.NodeAlive(p.node)
	t := time.NewTicker(p.HeartbeatEvery)
	defer t.Stop()
	for {
		p.rdb.Set(ctx, key, time.Now().UnixMilli(), p.AliveFor)
		select {
		case <-ctx.Done():
			// The node's own context is over; this last call owns its lifetime.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			p.rdb.Del(dctx, key)
			cancel()
			return nil
		case <-t.C:
		}
	}
}

// evictDead treats the shoppers of the sale's dead nodes as away from now.
// It costs one round trip per node that held shoppers of the sale.
func evictDead(ctx context.Context, rdb redis.UniversalClient, saleID string) error {
	k := salekeys.For(saleID)
	nodes, err := rdb.SMembers(ctx, k.Nodes).Result()
	if err != nil {
		return fmt.Errorf("list nodes of sale %s: %w", saleID, err)
	}
	for _, node := range nodes {
		alive, err := rdb.Exists(ctx, salekeys.NodeAlive(node)).Result()
		if err != nil {
			return fmt.Errorf("check node %s: %w", node, err)
		}
		if alive == 1 {
			continue
		}
		err = evictScript.Run(ctx, rdb, []string{k.Nodes, k.Conns(node), k.Away}, node, k.Conns("")).Err()
		if err != nil {
			return fmt.Errorf("evict dead node %s from sale %s: %w", node, saleID, err)
		}
	}
	return nil
}
