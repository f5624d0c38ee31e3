package app_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// holdEnv names the variables that turn this test binary into the client
// process of BenchmarkIdleConnectionMemory: clients live in another process,
// so the server's memory is measured alone.
const (
	holdEnv      = "FOYER_HOLD_URL"  // the URL to connect to; its sale in FOYER_HOLD_SALE, or bare
	holdSaleEnv  = "FOYER_HOLD_SALE" // "" for the bare server
	holdCountEnv = "FOYER_HOLD_COUNT"
	// holdArriveEnv=1 has each shopper arrive as a storm's do, in one
	// request (session=new&join=1), rather than session, socket, join.
	holdArriveEnv = "FOYER_HOLD_ARRIVE"
)

// holdConnections opens the connections, says "ready" on stdout and holds
// them until stdin closes.
func holdConnections(url string) int {
	n, _ := strconv.Atoi(os.Getenv(holdCountEnv))
	sale := os.Getenv(holdSaleEnv)
	ctx := context.Background()
	c := shopperclient.New(url)
	var held []*websocket.Conn
	for range n {
		if sale == "" {
			ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/ws", nil)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			held = append(held, ws)
			continue
		}
		if os.Getenv(holdArriveEnv) == "1" {
			conn, err := c.Arrive(ctx, sale, nil)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			for m, err := conn.Next(ctx); err == nil && m.Type != "position"; m, err = conn.Next(ctx) {
			}
			continue
		}
		sess, err := c.NewSession(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		conn, err := c.Connect(ctx, sale, sess)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		conn.Next(ctx) // the welcome
		conn.Join(ctx)
		for m, err := conn.Next(ctx); err == nil && m.Type != "position"; m, err = conn.Next(ctx) {
		}
	}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	_ = held
	return 0
}

// serverMemory is this process's heap and stacks in use, after a GC.
func serverMemory() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// perConnection connects n clients from a child process and returns how much
// this process's memory grew per connection.
func perConnection(b *testing.B, url, sale string, n int) float64 {
	b.Helper()
	return held(b, url, sale, n, false).bytes
}

// holding is what n connections held cost this process, each: memory held
// (heap spans and stacks, after a collection), and what connecting them
// allocated, in bytes and objects.
type holding struct{ bytes, allocated, objects float64 }

// held connects n clients from a child process (each arriving in one
// request with arrive) and returns what each cost this process.
func held(b *testing.B, url, sale string, n int, arrive bool) holding {
	b.Helper()
	before := serverMemory()
	var mb runtime.MemStats
	runtime.ReadMemStats(&mb)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), holdEnv+"="+url, holdSaleEnv+"="+sale, holdCountEnv+"="+strconv.Itoa(n))
	if arrive {
		cmd.Env = append(cmd.Env, holdArriveEnv+"=1")
	}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		b.Fatalf("client process: %q, %v", line, err)
	}
	var ma runtime.MemStats
	runtime.ReadMemStats(&ma) // before the collection, which allocates nothing of the joins
	after := serverMemory()
	per := func(v float64) float64 { return v / float64(n) }
	return holding{
		bytes:     per(float64(after) - float64(before)),
		allocated: per(float64(ma.TotalAlloc - mb.TotalAlloc)),
		objects:   per(float64(ma.Mallocs - mb.Mallocs)),
	}
}

// BenchmarkIdleConnectionMemory holds 2,000 idle connections against a bare
// coder/websocket server (accept, one goroutine blocked in Read) and 2,000
// waiting shoppers against a Foyer gateway, in the same run, and reports the
// memory each costs the server, and Foyer's as a ratio of the bare one.
func BenchmarkIdleConnectionMemory(b *testing.B) {
	const n = 2000
	// Both servers run in this process, so both have its stack settings
	// (the binary's gateway starts its goroutines small: smallstacks.Use).
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		for {
			if _, _, err := ws.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	defer bare.Close()
	sys := startNodes(b, 1, map[string]string{"FOYER_LOG_LEVEL": "error"})
	saleID := sys.createSale(b, map[string]any{"sku": "M-1", "name": "Memory", "stock": 10, "outflow_per_second": stalled})
	var bareBytes, foyerBytes float64
	for b.Loop() {
		bareBytes = perConnection(b, bare.URL, "", n)
		foyerBytes = perConnection(b, sys.URL, saleID, n)
	}
	b.ReportMetric(bareBytes, "bare-B/conn")
	b.ReportMetric(foyerBytes, "foyer-B/conn")
	b.ReportMetric(foyerBytes/bareBytes, "foyer/bare")
}

// BenchmarkJoinAllocations has 2,000 clients upgrade to a bare
// coder/websocket server and 2,000 new shoppers arrive at a Foyer gateway
// as a storm's do (session=new&join=1: the session made, the join answered,
// the place told), in the same run, from a child process, and reports what
// each costs the server in allocations, and Foyer's as ratios of the bare
// upgrade's. A join's short-lived objects are what leave the heap's spans
// sparse once they die beside the held connections' in a storm
// (docs/performance.md, "Issue 21's levers, fifth session"). The clients
// arrive one after the other, so the spans' sparseness is the storm's to
// measure (foyer-bench), not this benchmark's.
func BenchmarkJoinAllocations(b *testing.B) {
	const n = 2000
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		for {
			if _, _, err := ws.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	defer bare.Close()
	sys := startNodes(b, 1, map[string]string{"FOYER_LOG_LEVEL": "error", "FOYER_MAX_JOINS_PER_SECOND": "100000"})
	saleID := sys.createSale(b, map[string]any{"sku": "J-1", "name": "Joins", "stock": 10, "outflow_per_second": stalled})
	var bareHeld, foyerHeld holding
	for b.Loop() {
		bareHeld = held(b, bare.URL, "", n, false)
		foyerHeld = held(b, sys.URL, saleID, n, true)
	}
	b.ReportMetric(bareHeld.allocated, "bare-B/join")
	b.ReportMetric(foyerHeld.allocated, "foyer-B/join")
	b.ReportMetric(foyerHeld.allocated/bareHeld.allocated, "foyer/bare-B")
	b.ReportMetric(bareHeld.objects, "bare-allocs/join")
	b.ReportMetric(foyerHeld.objects, "foyer-allocs/join")
	b.ReportMetric(foyerHeld.objects/bareHeld.objects, "foyer/bare-allocs")
}
