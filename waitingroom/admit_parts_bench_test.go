package waitingroom

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// admitScriptParts are the pieces of admit.lua whose cost
// BenchmarkAdmitScriptParts measures, each as the text it takes out.
var admitScriptParts = []struct{ name, cut string }{
	{"event", "redis.call('XADD', events, 'MAXLEN', '~', ARGV[3], '*', 'type', 'admitted', 'data', body)"},
	{"batch", "write_batch(batches, nonce, expires_s, now_s, popped)"},
	{"holds", "redis.call('ZADD', holds, expires, nonce)"},
	{"shoppers", "each_batch(names, 2, function(...) redis.call('HSET', shoppers, ...) end)"},
}

// BenchmarkAdmitScriptParts says where admit.lua's time goes: it times the
// script admitting admissionWaiting shoppers admissionBatch at a time as it
// is, then without each of its writes, then without any, and reports each
// as milliseconds per batch beside bareAdmitScript's (the admission
// baseline). A diagnosis, not a target: the scripts without a part are not
// correct admissions.
//
//	go test -run '^$' -bench AdmitScriptParts -benchtime 1x ./waitingroom
func BenchmarkAdmitScriptParts(b *testing.B) {
	rdb := testenv.RedisClient(b, testenv.NewRedis(b))
	rooms := NewRooms(rdb)
	whole, err := scriptSource("admit")
	if err != nil {
		b.Fatal(err)
	}
	without := func(text string, cuts ...string) string {
		for _, c := range cuts {
			if !strings.Contains(text, c) {
				b.Fatalf("admit.lua no longer has %q: update admitScriptParts", c)
			}
			text = strings.Replace(text, c, "", 1)
		}
		return text
	}
	variants := []struct{ name, src string }{{"whole", whole}}
	var all []string
	for _, p := range admitScriptParts {
		variants = append(variants, struct{ name, src string }{"without-" + p.name, without(whole, p.cut)})
		all = append(all, p.cut)
	}
	variants = append(variants, struct{ name, src string }{"without-writes", without(whole, all...)})

	perBatch := map[string]time.Duration{}
	for b.Loop() {
		for _, v := range variants {
			perBatch[v.name] += timeAdmitScript(b, rdb, rooms, redis.NewScript(v.src))
		}
		perBatch["baseline"] += timeBareAdmission(b, rdb)
	}
	for name, d := range perBatch {
		b.ReportMetric(float64(d)/float64(b.N)/float64(time.Millisecond), name+"-ms/batch")
	}
}

// timeAdmitScript times one admit script letting admissionWaiting shoppers
// out of a fresh sale, and returns its time per batch.
func timeAdmitScript(b *testing.B, rdb *redis.Client, rooms *Rooms, admit *redis.Script) time.Duration {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	ctx := context.Background()
	prepare(b, rdb, joinScript, leaseScript, admit)
	saleID := "s_parts"
	loadOpenSale(b, rooms, saleID, 2*admissionWaiting, 1e9)
	joinAll(b, rdb, saleID, admissionWaiting)
	k := Keys(saleID)
	fence, err := leaseScript.Run(ctx, rdb, []string{k.Lease, k.Fence, k.Meta}, "bench", time.Minute.Milliseconds()).Text()
	if err != nil {
		b.Fatal(err)
	}
	keys := admitKeys(k)
	var took time.Duration
	for range admissionWaiting / admissionBatch {
		began := time.Now()
		n, err := admit.EvalSha(ctx, rdb, keys, fence, admissionBatch, EventsMaxLen, "0", reservationNonce()).Int()
		took += time.Since(began)
		if err != nil || n != admissionBatch {
			b.Fatalf("admitted %d (err %v), want %d", n, err, admissionBatch)
		}
	}
	return took / (admissionWaiting / admissionBatch)
}

// timeBareAdmission times bareAdmitScript, one call per batch as the
// admitter makes them (not pipelined), and returns its time per batch.
func timeBareAdmission(b *testing.B, rdb *redis.Client) time.Duration {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	ctx := context.Background()
	prepare(b, rdb, bareAdmitScript)
	queue, stock, holds := "bare:{s_parts}:queue", "bare:{s_parts}:stock", "bare:{s_parts}:hold:"
	fillBareQueue(b, rdb, queue, admissionWaiting)
	rdb.Set(ctx, stock, 2*admissionWaiting, 0)
	var took time.Duration
	for range admissionWaiting / admissionBatch {
		began := time.Now()
		n, err := bareAdmitScript.EvalSha(ctx, rdb, []string{queue, stock}, admissionBatch, 300_000, holds).Int()
		took += time.Since(began)
		if err != nil || n != admissionBatch {
			b.Fatal(fmt.Errorf("bare admission let %d out (err %v), want %d", n, err, admissionBatch))
		}
	}
	return took / (admissionWaiting / admissionBatch)
}
