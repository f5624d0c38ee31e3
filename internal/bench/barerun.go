package bench

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/foyerhq/foyer/internal/clock"
	"github.com/foyerhq/foyer/internal/loadgen"
)

// measureBare measures the bare baseline: accept rate, memory per idle
// connection, CPU per idle connection (when idleFor is set) and broadcast
// fan-out, with the same payload size, the same connect concurrency and the
// same keepalive (o.PingEvery) as the load generator uses, over as many bare
// servers and crowds as its connections need (o.BarePerServer each). Tuned,
// the servers upgrade with the gateway's buffer sizes.
func measureBare(ctx context.Context, o Options, tuned bool, idleFor time.Duration) (BareResult, error) {
	procs := (o.BareShoppers + o.BarePerServer - 1) / o.BarePerServer
	var urls []string
	for range procs {
		url, stop, err := startBare(ctx, o.Self, tuned, o.ServerLog)
		if err != nil {
			return BareResult{}, err
		}
		defer stop()
		urls = append(urls, url)
	}
	before, err := loadgen.ScrapeGateways(ctx, urls, true)
	if err != nil {
		return BareResult{}, err
	}
	serverBefore, err := loadgen.ScrapeGateways(ctx, urls, false)
	if err != nil {
		return BareResult{}, err
	}
	// The crowds connect at once, sharing the load generator's 200
	// connecting slots; each measures its own CPU while it connects.
	var crowds []*crowdProc
	defer func() {
		for _, c := range crowds {
			c.stop()
		}
	}()
	shares := make([]int, procs)
	for k, url := range urls {
		shares[k] = o.BareShoppers*(k+1)/procs - o.BareShoppers*k/procs
		c, err := startCrowd(o.Self, url, shares[k], max(1, 200/procs), o.PingEvery, o.ServerLog)
		if err != nil {
			return BareResult{}, err
		}
		crowds = append(crowds, c)
	}
	// The accept rate runs from the first dial of any crowd to the last
	// accept of any, as the join rate does over the players.
	var res BareResult
	var first, last time.Time
	for _, c := range crowds {
		got, err := c.connected()
		if err != nil {
			return BareResult{}, err
		}
		if first.IsZero() || got.Began.Before(first) {
			first = got.Began
		}
		if got.Ended.After(last) {
			last = got.Ended
		}
		res.ClientCPU += got.CPU
	}
	serverAfter, err := loadgen.ScrapeGateways(ctx, urls, false)
	if err != nil {
		return BareResult{}, err
	}
	res.Servers, res.Connections, res.AcceptsPerSecond = procs, o.BareShoppers, float64(o.BareShoppers)/last.Sub(first).Seconds()
	res.ServerCPU = serverAfter.CPUSince(serverBefore)
	res.Tuned = tuned
	// The idle window comes before any broadcast, as the hold's comes
	// before any probe, and waits as long after the last connection.
	if idleFor > 0 {
		if res.Idle, err = loadgen.MeasureIdle(ctx, urls, loadgen.IdleLead, idleFor); err != nil {
			return BareResult{}, fmt.Errorf("bare idle CPU: %w", err)
		}
	}

	const broadcasts = 5
	var held loadgen.GatewayStats
	for range broadcasts {
		if err := clock.Sleep(ctx, 2*time.Second); err != nil {
			return BareResult{}, err
		}
		if err := broadcastBare(ctx, urls); err != nil {
			return BareResult{}, err
		}
		g, err := loadgen.ScrapeGateways(ctx, urls, true)
		if err != nil {
			return BareResult{}, err
		}
		// The reading with the least memory, as the load generator takes
		// Foyer's: the closest to a collection.
		if held.Connections == 0 || g.HeapBytes+g.StackBytes < held.HeapBytes+held.StackBytes {
			held = g
		}
	}
	// The last broadcast has been written by the time /broadcast answered;
	// give the readers a moment to take it in.
	if err := clock.Sleep(ctx, time.Second); err != nil {
		return BareResult{}, err
	}
	res.BytesPerConnection, res.GoroutinesPerConnection = held.PerConnection(before)
	res.RSSPerConnection = held.RSSPerConnection(before)
	var all []time.Duration
	for k, c := range crowds {
		heard, err := c.heard()
		if err != nil {
			return BareResult{}, err
		}
		if len(heard.Rounds) != broadcasts {
			return BareResult{}, fmt.Errorf("bare crowd %d heard %d broadcasts of %d", k, len(heard.Rounds), broadcasts)
		}
		for _, ds := range heard.Rounds {
			if len(ds) != shares[k] {
				return BareResult{}, fmt.Errorf("a broadcast of bare server %s reached %d of %d connections", urls[k], len(ds), shares[k])
			}
			all = append(all, ds...)
		}
	}
	res.Push = loadgen.Summarize(all)
	return res, nil
}

// broadcastBare has every bare server broadcast at once, as every gateway
// pushes a stock change at once, and returns when all have written theirs.
func broadcastBare(ctx context.Context, urls []string) error {
	errs := make(chan error, len(urls))
	for _, url := range urls {
		go func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/broadcast", nil)
			if err == nil {
				var resp *http.Response
				if resp, err = http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
			errs <- err
		}()
	}
	for range urls {
		if err := <-errs; err != nil {
			return fmt.Errorf("bare broadcast: %w", err)
		}
	}
	return nil
}
