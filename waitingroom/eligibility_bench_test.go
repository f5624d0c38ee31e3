package waitingroom

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// invitedListSize is how many customers an invited sale lists in the
// benchmark: a member drop's whole list, of which joinShoppers join.
const invitedListSize = 100_000

// BenchmarkInvitedJoin puts a number on what eligibility costs a join: an
// invited sale's join (join.lua finding the shopper in a list of
// invitedListSize customers, Rooms.JoinWith as the gateway calls it, with
// the two groups of a customer's session) against the same shoppers joining
// a sale open to everyone, on the same Redis in the same run, the two
// alternating. The check is a set lookup or two in the script itself, so
// the ratio should stay near 1 however long the list: no Postgres, and no
// work that grows with the list or the queue.
func BenchmarkInvitedJoin(b *testing.B) {
	rdb := testenv.RedisClient(b, testenv.NewRedis(b))
	rooms := NewRooms(rdb)
	ctx := context.Background()
	shoppers := make([]string, joinShoppers)
	txns := make([]string, joinShoppers)
	for i := range shoppers {
		shoppers[i] = fmt.Sprintf("shopper-%07d", i)
		txns[i] = "t_" + strings.ToLower(rand.Text())
	}
	pass := Pass{Groups: []string{"newsletter", "members-2024"}}
	var invited, open time.Duration
	run := 0
	for b.Loop() {
		b.StopTimer()
		run++
		saleID := fmt.Sprintf("s_inv%d", run)
		prepare(b, rdb, joinScript)
		loadSale(b, rooms, saleID, EligibleInvited)
		listInvitees(b, rdb, saleID)
		b.StartTimer()
		invited += timeConcurrently(b, joinWorkers, joinShoppers, func(i int) error {
			_, err := rooms.JoinWith(ctx, saleID, shoppers[i], txns[i], pass)
			return err
		})
		b.StopTimer()
		expectCard(b, rdb, Keys(saleID).Queue, joinShoppers)

		prepare(b, rdb, joinScript)
		loadSale(b, rooms, saleID, EligibleEveryone)
		b.StartTimer()
		open += timeConcurrently(b, joinWorkers, joinShoppers, func(i int) error {
			_, err := rooms.JoinWith(ctx, saleID, shoppers[i], txns[i], pass)
			return err
		})
		b.StopTimer()
		expectCard(b, rdb, Keys(saleID).Queue, joinShoppers)
		b.StartTimer()
	}
	reportRatio(b, "joins/s", float64(b.N*joinShoppers), invited, open)
}

// loadSale loads an open sale with the eligibility e.
func loadSale(b *testing.B, rooms *Rooms, saleID string, e Eligibility) {
	b.Helper()
	p := validPlan()
	p.ID, p.Stock, p.OutflowPerSecond, p.Eligibility = saleID, 1000, 10, e
	p.StartsAt, p.EndsAt = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	if err := rooms.Load(context.Background(), &p); err != nil {
		b.Fatal(err)
	}
}

// listInvitees puts invitedListSize shoppers on the sale's list, the
// joiners among them, as an upload leaves it in Redis.
func listInvitees(b *testing.B, rdb *redis.Client, saleID string) {
	b.Helper()
	ctx := context.Background()
	for start := 0; start < invitedListSize; start += 10_000 {
		members := make([]any, 0, 10_000)
		for i := start; i < min(start+10_000, invitedListSize); i++ {
			members = append(members, fmt.Sprintf("shopper-%07d", i))
		}
		if err := rdb.SAdd(ctx, Keys(saleID).Invited, members...).Err(); err != nil {
			b.Fatal(err)
		}
	}
}
