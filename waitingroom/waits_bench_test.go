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
	perBatch := map[string]time.Duration{}
	run := 0
	for b.Loop() {
		// Each run in turn goes first, so a machine that slows down or
		// speeds up meanwhile weighs on both alike.
		variants[0], variants[1] = variants[1], variants[0]
		for _, v := range variants {
			run++
			tickScript, admitScript = v.tick, v.admit
			perBatch[v.name] += timeAdmitterTicks(b, rdb, rooms, fmt.Sprintf("s_waits%d", run))
		}
	}
	tickScript, admitScript = keptTick, keptAdmit
	with, without := perBatch["with"], perBatch["without"]
	b.ReportMetric(float64(with)/float64(b.N)/float64(time.Millisecond), "with-ms/batch")
	b.ReportMetric(float64(without)/float64(b.N)/float64(time.Millisecond), "without-ms/batch")
	b.ReportMetric(float64(with)/float64(without), "ratio")
}

// timeAdmitterTicks lets admissionWaiting shoppers out of a fresh sale by
// the admitter's ticks, and returns the time per batch.
func timeAdmitterTicks(b *testing.B, rdb *redis.Client, rooms *Rooms, saleID string) time.Duration {
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
	b.StartTimer()
	began := time.Now()
	for range admissionWaiting / admissionBatch {
		if err := a.runSale(ctx, saleID, s, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	took := time.Since(began)
	b.StopTimer()
	if st, err := rooms.Status(ctx, saleID); err != nil || st.Held != admissionWaiting {
		b.Fatalf("held %d (err %v), want %d", st.Held, err, admissionWaiting)
	}
	return took / (admissionWaiting / admissionBatch)
}
