package waitingroom

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/gather"
)

// Presence records which node holds which shopper's connection, so a shopper
// who leaves, or whose node dies, keeps its place for the grace period and
// then loses it, while one who reconnects anywhere in time keeps it.
type Presence struct {
	rdb  redis.UniversalClient
	node string
	// Beat is the client the heartbeat goes through. Defaults to the one
	// given to NewPresence; give it a connection of its own, so that a
	// heartbeat never waits in the pool behind the node's work: a node too
	// busy to get a connection for AliveFor would be taken for dead, and
	// evicting its shoppers, then recording them again, adds to what kept it
	// busy.
	Beat redis.UniversalClient
	// HeartbeatEvery is how often the node says it is alive. Defaults to 1s.
	HeartbeatEvery time.Duration
	// AliveFor is how long a heartbeat lasts: a node silent this long is
	// dead, and its shoppers count as away from then on. Defaults to 15s:
	// fifteen missed heartbeats is a dead node, not a busy one, and it is
	// short beside the shoppers' grace period.
	AliveFor time.Duration
	// DepartGather is how long the first departure of a sale on this node
	// waits for more, to record them all in one round trip. Defaults to 5ms:
	// nothing next to the grace period a departure starts, and at a thousand
	// departures a second a round trip for five of them. Zero records each
	// departure alone.
	DepartGather time.Duration
	// DepartMost ends a gathering at once when this many departures joined
	// it. Defaults to 1000, as many as one call of a script takes (arriveChunk).
	DepartMost int

	departing gather.Batches[string, string]            // by sale, the shoppers departing
	arrivals  gather.Line[string, *arrivalAsk, Arrival] // by sale, the arrivals on their way
}

// NewPresence returns the presence of node, with the defaults documented on its fields.
func NewPresence(rdb redis.UniversalClient, node string) *Presence {
	return &Presence{rdb: rdb, node: node, Beat: rdb, HeartbeatEvery: time.Second, AliveFor: 15 * time.Second,
		DepartGather: 5 * time.Millisecond, DepartMost: arriveChunk}
}

// Arrive records that a connection of the shopper opened on this node.
func (p *Presence) Arrive(ctx context.Context, saleID, shopperID string) error {
	p.cancelDeparture(saleID, shopperID)
	k := Keys(saleID)
	err := arriveScript.Run(ctx, p.rdb, []string{k.Nodes, k.Conns(p.node), k.Away, k.Present}, p.node, shopperID).Err()
	if err != nil {
		return fmt.Errorf("shopper %s arrives at sale %s: %w", shopperID, saleID, err)
	}
	return nil
}

// Arrival is what ArriveAndJoin read and recorded.
type Arrival struct {
	Status Status
	// ArriveErr is the recording's error; JoinErr the join's. Each is the
	// shopper's to hear after its welcome: the status was read.
	ArriveErr error
	JoinErr   error
	Place     Place // where the join put the shopper, when it joined
}

// Piped is another part's script that rides in the arrival's round trip:
// the count of the shopper's connection under its cap
// (ratelimit.Counting). Its keys may be in another slot of a Redis Cluster:
// the client sends each slot's commands to its node.
type Piped interface {
	// Queue adds the script to p, by its hash or, with whole, itself.
	Queue(ctx context.Context, p redis.Pipeliner, whole bool)
	// NoScript reports that Redis had lost the script: queue it whole again.
	NoScript() bool
}

// ArriveAndJoin reads the sale's status, records the shopper's arrival on
// this node as Arrive does and, with join, joins it as Rooms.Join does, all
// in one round trip with the scripts of also: in a storm nearly every
// arrival is a new shopper joining at once, and a round trip costs Redis
// more than any of the scripts. The arrivals at a sale asked while one is
// on its way go together when it is back, under one status read
// (arrivals.go). The status is read after the call began, so it is no
// older than a Status call made now; nothing is recorded for a sale that
// is not there. The error is the status's: the sale is not there, or
// Redis is out of reach, in which case the scripts may or may not have
// run.
func (p *Presence) ArriveAndJoin(ctx context.Context, saleID, shopperID, txn string, join bool, also ...Piped) (Arrival, error) {
	return p.ArriveAndJoinWith(ctx, saleID, shopperID, txn, join, Pass{}, also...)
}

// ArriveAndJoinWith is ArriveAndJoin for a shopper that shows pass to join
// (Rooms.JoinWith).
func (p *Presence) ArriveAndJoinWith(ctx context.Context, saleID, shopperID, txn string, join bool, pass Pass, also ...Piped) (Arrival, error) {
	keys, err := joinKeys(saleID, shopperID, txn)
	if err != nil {
		return Arrival{}, err
	}
	joinArgv, err := joinArgs(shopperID, txn, pass)
	if err != nil {
		return Arrival{}, fmt.Errorf("join sale %s: %w", saleID, err)
	}
	p.cancelDeparture(saleID, shopperID) // a departure gathering here: the shopper did not leave
	ask := &arrivalAsk{shopper: shopperID, also: also}
	if join {
		ask.joinKeys, ask.joinArgv = keys, joinArgv
	}
	return p.arrivals.Do(ctx, saleID, ask, p.sendArrivals)
}

// arriveChunk bounds the shoppers ArriveAll records in one script call, so
// one call never holds Redis for long.
const arriveChunk = 1000

// ArriveAll records again that this node holds connections of these
// shoppers of the sale: one round trip per thousand shoppers.
func (p *Presence) ArriveAll(ctx context.Context, saleID string, shopperIDs []string) error {
	k := Keys(saleID)
	for chunk := range slices.Chunk(shopperIDs, arriveChunk) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, p.node)
		for _, id := range chunk {
			args = append(args, id)
		}
		if err := arriveScript.Run(ctx, p.rdb, []string{k.Nodes, k.Conns(p.node), k.Away, k.Present}, args...).Err(); err != nil {
			return fmt.Errorf("%d shoppers arrive again at sale %s: %w", len(shopperIDs), saleID, err)
		}
	}
	return nil
}

// Run keeps the node's heartbeat until ctx ends, then withdraws it, so the
// node's remaining shoppers are treated as away at once.
//
// revived, when not nil, is called after a heartbeat that found the node's
// previous one lapsed: Redis was out of reach (or lost its data) for longer
// than AliveFor, so an admitter may have taken the node for dead and its
// shoppers, still connected, for away. The node then says again whom it
// holds (ArriveAll), or they would lose their places when the grace period
// ends. It runs after the heartbeat is back, so no admitter takes the node
// for dead again.
func (p *Presence) Run(ctx context.Context, revived func(ctx context.Context)) error {
	key := nodeAlive(p.node)
	t := time.NewTicker(p.HeartbeatEvery)
	defer t.Stop()
	beating := false // a heartbeat has been recorded since Run started
	revive := 0      // heartbeats left that call revived
	for {
		// GET returns the heartbeat this one replaces: none means it lapsed.
		err := p.Beat.SetArgs(ctx, key, time.Now().UnixMilli(), redis.SetArgs{TTL: p.AliveFor, Get: true}).Err()
		lapsed := errors.Is(err, redis.Nil)
		if lapsed && beating {
			// Twice: now, and a heartbeat later for an admitter that found
			// the node dead just before this heartbeat (its check and its
			// eviction are two round trips) and evicted just after.
			revive = 2
		}
		if (err == nil || lapsed) && revive > 0 && revived != nil {
			revive--
			revived(ctx)
		}
		beating = beating || err == nil || lapsed
		select {
		case <-ctx.Done():
			// The node's own context is over; this last call owns its lifetime.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			p.Beat.Del(dctx, key)
			cancel()
			return nil
		case <-t.C:
		}
	}
}

// evictDead treats the shoppers of the sale's dead nodes as away from now.
// It costs one round trip per node that held shoppers of the sale, and one
// per dead one.
func evictDead(ctx context.Context, rdb redis.UniversalClient, saleID string) error {
	k := Keys(saleID)
	nodes, err := rdb.SMembers(ctx, k.Nodes).Result()
	if err != nil {
		return fmt.Errorf("list nodes of sale %s: %w", saleID, err)
	}
	for _, node := range nodes {
		alive, err := rdb.Exists(ctx, nodeAlive(node)).Result()
		if err != nil {
			return fmt.Errorf("check node %s: %w", node, err)
		}
		if alive == 1 {
			continue
		}
		err = evictScript.Run(ctx, rdb, []string{k.Nodes, k.Conns(node), k.Present, k.Away}, node).Err()
		if err != nil {
			return fmt.Errorf("evict dead node %s from sale %s: %w", node, saleID, err)
		}
	}
	return nil
}
