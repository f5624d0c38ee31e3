package waitingroom

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// cutBlock takes the text between "-- <name>:begin" and "-- <name>:end"
// out of a script's source.
func cutBlock(b *testing.B, src, name string) string {
	b.Helper()
	begin, end := "-- "+name+":begin", "-- "+name+":end"
	i, j := strings.Index(src, begin), strings.Index(src, end)
	if i < 0 || j < i {
		b.Fatalf("the script has no %s block", name)
	}
	return src[:i] + src[j+len(end):]
}

// BenchmarkAdmissionWithTheWaitHistogram weighs what the post-sale
// report's wait histogram costs the admitter: its ticks (lease, tick.lua,
// admit.lua, as Run makes them) letting admissionWaiting shoppers out
// admissionBatch at a time, with the scripts as they are and with the
// arrivals marks (tick.lua) and the histogram (admit.lua) cut out. The
// queue's tickets arrived ten per mark, as a join storm of 100 a second
// marked every 100 ms tick would leave them. It reports the time per batch
// of each and their ratio.
//
//	go test -run '^$' -bench AdmissionWithTheWaitHistogram -benchtime 3x ./waitingroom
func BenchmarkAdmissionWithTheWaitHistogram(b *testing.B) {
	rdb := testenv.RedisClient(b, testenv.NewRedis(b))
	rooms := NewRooms(rdb)
	tickSrc, err := scriptSource("tick")
	if err != nil {
		b.Fatal(err)
	}
	admitSrc, err := scriptSource("admit")
	if err != nil {
		b.Fatal(err)
	}
	variants := []struct {
		name        string
		tick, admit *redis.Script
	}{
		{name: "with", tick: tickScript, admit: admitScript},
		{name: "without", tick: redis.NewScript(cutBlock(b, tickSrc, "arrivals")), admit: redis.NewScript(cutBlock(b, admitSrc, "waits"))},
	}
	keptTick, keptAdmit := tickScript, admitScript
	b.Cleanup(func() { tickScript, admitScript = keptTick, keptAdmit })
	perBatch, inRedis := map[string]time.Duration{}, map[string]time.Duration{}
	run := 0
	for b.Loop() {
		// Each run in turn goes first, so a machine that slows down or
		// speeds up meanwhile weighs on both alike.
		variants[0], variants[1] = variants[1], variants[0]
		for _, v := range variants {
			run++
			tickScript, admitScript = v.tick, v.admit
			took, redisTook := timeAdmitterTicks(b, rdb, rooms, fmt.Sprintf("s_waits%d", run))
			perBatch[v.name] += took
			inRedis[v.name] += redisTook
		}
	}
	tickScript, admitScript = keptTick, keptAdmit
	with, without := perBatch["with"], perBatch["without"]
	b.ReportMetric(float64(with)/float64(b.N)/float64(time.Millisecond), "with-ms/batch")
	b.ReportMetric(float64(without)/float64(b.N)/float64(time.Millisecond), "without-ms/batch")
	b.ReportMetric(float64(with)/float64(without), "ratio")
	// Redis's own time in the scripts (INFO commandstats): what the
	// histogram costs the server every node shares, without the client's.
	b.ReportMetric(float64(inRedis["with"])/float64(inRedis["without"]), "redis-ratio")
}

// scriptTime is Redis's total time in EVALSHA so far (INFO commandstats).
func scriptTime(b *testing.B, rdb *redis.Client) time.Duration {
	b.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_evalsha:"); ok {
			for _, field := range strings.Split(rest, ",") {
				if v, ok := strings.CutPrefix(field, "usec="); ok {
					us, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
					if err != nil {
						b.Fatal(err)
					}
					return time.Duration(us) * time.Microsecond
				}
			}
		}
	}
	return 0
}

// timeAdmitterTicks lets admissionWaiting shoppers out of a fresh sale by
// the admitter's ticks, and returns the time per batch, as the admitter saw
// it and as Redis spent it in the scripts.
func timeAdmitterTicks(b *testing.B, rdb *redis.Client, rooms *Rooms, saleID string) (time.Duration, time.Duration) {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	ctx := context.Background()
	prepare(b, rdb, joinScript, leaseScript, tickScript, admitScript)
	loadOpenSale(b, rooms, saleID, 2*admissionWaiting, 1e9)
	joinAll(b, rdb, saleID, admissionWaiting)
	// Ten tickets a mark, 100 ms apart, the last a second ago.
	marks := make([]redis.Z, 0, admissionWaiting/10)
	start := time.Now().Add(-time.Duration(admissionWaiting/10) * 100 * time.Millisecond).UnixMilli()
	for i := 1; i <= admissionWaiting/10; i++ {
		marks = append(marks, redis.Z{Score: float64(i * 10), Member: strconv.FormatInt(start+int64(i)*100, 10)})
	}
	if err := rdb.ZAdd(ctx, Keys(saleID).Arrivals, marks...).Err(); err != nil {
		b.Fatal(err)
	}
	a := NewAdmitter(rdb, "bench", quietLog())
	a.MaxAdmitPerTick = admissionBatch
	s := &admission{last: time.Now()}
	if err := a.runSale(ctx, saleID, s, time.Now()); err != nil { // takes the lease; admits nobody
		b.Fatal(err)
	}
	inRedis := scriptTime(b, rdb)
	b.StartTimer()
	began := time.Now()
	for range admissionWaiting / admissionBatch {
		if err := a.runSale(ctx, saleID, s, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	took := time.Since(began)
	b.StopTimer()
	inRedis = scriptTime(b, rdb) - inRedis
	if st, err := rooms.Status(ctx, saleID); err != nil || st.Held != admissionWaiting {
		b.Fatalf("held %d (err %v), want %d", st.Held, err, admissionWaiting)
	}
	return took / (admissionWaiting / admissionBatch), inRedis / (admissionWaiting / admissionBatch)
}
