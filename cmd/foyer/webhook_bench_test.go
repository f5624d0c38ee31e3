package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
)

// BenchmarkPaymentWebhooks posts the same results to a real gateway
// (`foyer serve`, its own process, on real Redis and Postgres) one per
// request, as the test provider did, and in batches of
// checkout.MaxWebhookResults, as it does now, alternating A B A B in one run
// so that the machine's swings fall on both. It reports results per second
// and the gateway's CPU per result (read from /proc: the poster's own work
// is not in it) in each mode, and batched as a ratio of one per request.
//
//	go test -run '^$' -bench BenchmarkPaymentWebhooks -benchtime 1x ./cmd/foyer
func BenchmarkPaymentWebhooks(b *testing.B) {
	const (
		results = 16384 // per round: many batches, and CPU well above /proc's resolution
		posters = 64    // concurrent requests: a result alone waits for the gateway's 5ms gathering
	)
	gateway, pid := startBenchGateway(b)
	all := make([]orderstream.PaymentResult, results)
	for i := range all {
		all[i] = orderstream.PaymentResult{OrderID: int64(i + 1), SaleID: "s_bench", ReservationID: fmt.Sprintf("r_%d", i+1), Status: checkout.PaymentPaid}
	}
	single, batched := encodeBodies(b, all, 1), encodeBodies(b, all, checkout.MaxWebhookResults)
	postRound(b, gateway, single, posters) // warm up the gateway and its connections
	var singleRate, batchRate, singleCPU, batchCPU []float64
	for b.Loop() {
		for range 2 { // A B A B
			for _, m := range []struct {
				bodies     [][]byte
				rate, cost *[]float64
			}{{single, &singleRate, &singleCPU}, {batched, &batchRate, &batchCPU}} {
				cpu := processCPU(b, pid)
				start := time.Now()
				postRound(b, gateway, m.bodies, posters)
				wall := time.Since(start)
				*m.rate = append(*m.rate, results/wall.Seconds())
				*m.cost = append(*m.cost, float64((processCPU(b, pid)-cpu).Microseconds())/results)
			}
		}
	}
	b.ReportMetric(mean(singleRate), "single-results/s")
	b.ReportMetric(mean(batchRate), "batched-results/s")
	b.ReportMetric(mean(singleCPU), "single-gw-µs/result")
	b.ReportMetric(mean(batchCPU), "batched-gw-µs/result")
	b.ReportMetric(mean(batchCPU)/mean(singleCPU), "cpu-batched/single")
	b.ReportMetric(mean(batchRate)/mean(singleRate), "rate-batched/single")
	b.Logf("rounds: single %v results/s at %v µs/result; batched %v results/s at %v µs/result",
		rounded(singleRate), rounded(singleCPU), rounded(batchRate), rounded(batchCPU))
}

// startBenchGateway builds and starts `foyer serve` alone (no worker: the
// results wait on their stream) and returns its webhook's URL and its pid.
func startBenchGateway(b *testing.B) (string, int) {
	bin := filepath.Join(b.TempDir(), "foyer")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	rs := testenv.NewRedis(b)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(withoutGODEBUG(os.Environ()),
		"FOYER_HTTP_ADDR=127.0.0.1:0", "FOYER_METRICS_ADDR=127.0.0.1:0", "FOYER_REDIS_URL="+rs.URL(),
		"FOYER_DATABASE_URL="+testenv.NewDatabase(b), "FOYER_ADMIN_TOKEN=bench-admin-token-of-32-characters",
		"FOYER_SIGNING_KEYS="+keyring.NewSeed(), "FOYER_NODE_ID=bench", "FOYER_PAYMENT_WEBHOOK_SECRET="+testWebhookSecret,
		"FOYER_ALLOW_VOLATILE_REDIS=true", "FOYER_LOG_LEVEL=info",
		// One poster stands for a provider: the per-IP limits would refuse it.
		"FOYER_LIMIT_IP_REQUESTS=0", "FOYER_LIMIT_IP_SESSIONS=0", "FOYER_LIMIT_IP_CONNECTS=0")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		if m := listenLine.FindStringSubmatch(lines.Text()); m != nil {
			go func() { // keep the pipe drained
				for lines.Scan() {
				}
			}()
			return "http://" + m[1] + "/v1/payments/webhook", cmd.Process.Pid
		}
	}
	b.Fatal("foyer serve exited before listening")
	return "", 0
}

// encodeBodies cuts results into webhook bodies of per results each: a
// result alone when per is 1, as the provider sends one.
func encodeBodies(b *testing.B, results []orderstream.PaymentResult, per int) [][]byte {
	var bodies [][]byte
	for i := 0; i < len(results); i += per {
		var body any = orderstream.PaymentBatch{Results: results[i:min(i+per, len(results))]}
		if per == 1 {
			body = results[i]
		}
		raw, err := json.Marshal(body)
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, raw)
	}
	return bodies
}

// postRound posts every body, signed now, from posters goroutines, and
// fails the benchmark on any answer but 202.
func postRound(b *testing.B, url string, bodies [][]byte, posters int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: posters}}
	for range posters {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(bodies)); i = next.Add(1) - 1 {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(bodies[i]))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(checkout.SignatureHeader, checkout.Sign([]byte(testWebhookSecret), bodies[i], time.Now()))
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					b.Errorf("webhook answered %s", resp.Status)
					return
				}
			}
		})
	}
	wg.Wait()
	client.CloseIdleConnections()
}

// processCPU is the CPU time a process's threads have run, to the
// nanosecond: the sum of the first field of each thread's schedstat.
func processCPU(b *testing.B, pid int) time.Duration {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for _, task := range tasks {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, task.Name()))
		if err != nil {
			continue // a thread that ended meanwhile
		}
		ns, _ := strconv.ParseInt(strings.Fields(string(raw))[0], 10, 64)
		total += time.Duration(ns)
	}
	return total
}

func mean(xs []float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// rounded shows each round's figure to three significant digits.
func rounded(xs []float64) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strconv.FormatFloat(x, 'g', 3, 64)
	}
	return out
}
