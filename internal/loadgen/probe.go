package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Probe kinds: what a probe changes for every waiting shopper to hear.
const (
	// ProbeMessage sends an operator message stamped with its send time;
	// each shopper measures the latency itself.
	ProbeMessage = "message"
	// ProbeStock adds one unit of stock; shoppers note when each new total
	// arrived and the prober, which knows when it set each total, pairs
	// them up. It is the push an admission or a restock causes.
	ProbeStock = "stock"
)

// probePrefix starts the operator messages a message probe sends; the rest
// is the send time in Unix nanoseconds.
const probePrefix = "loadgen-probe "

// prober changes the sale every ProbeEvery once every shopper has joined (or failed),
// for the shoppers to measure how fast the change reached them.
type prober struct {
	o       Options
	start   time.Time   // when the run started: it ends o.Duration later at the latest
	settled func() bool // every shopper, over every player, has joined or failed
	fail    func(code string)

	mu         sync.Mutex
	stockSetAt map[int64]time.Time // each stock total the prober set, and when
}

// run probes until ctx is done.
func (p *prober) run(ctx context.Context) {
	// Probes measure the push of a steady room, not the connect storm: the
	// first goes a quarter period after everyone has joined or failed, and
	// after the quiet window of a hold that measures idle CPU.
	poll := time.NewTicker(50 * time.Millisecond)
	for !p.settled() {
		select {
		case <-ctx.Done():
			poll.Stop()
			return
		case <-poll.C:
		}
	}
	poll.Stop()
	// A probe sent just before the run ends would reach some shoppers and
	// not others, and be measured cut short: none is sent in the last period.
	end := p.start.Add(p.o.Duration)
	if held := time.Now().Add(p.o.quiet() + p.o.HoldFor); p.o.HoldFor > 0 && held.Before(end) {
		end = held
	}
	total, err := p.currentStock(ctx)
	if err != nil {
		p.fail("probe_failed")
		return
	}
	next := time.NewTimer(p.o.quiet() + p.o.ProbeEvery/4)
	defer next.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-next.C:
			next.Reset(p.o.ProbeEvery)
		}
		if time.Until(end) < p.o.ProbeEvery {
			return
		}
		var path, body string
		switch p.o.Probe {
		case ProbeStock:
			path, body = "/stock", `{"add":1}`
		default:
			path, body = "/messages", fmt.Sprintf(`{"text":%q}`, probePrefix+strconv.FormatInt(time.Now().UnixNano(), 10))
		}
		sent := time.Now()
		if err := p.admin(ctx, path, body); err != nil {
			if ctx.Err() == nil {
				p.fail(err.Error())
			}
			continue
		}
		if p.o.Probe == ProbeStock {
			total++
			p.mu.Lock()
			p.stockSetAt[total] = sent
			p.mu.Unlock()
		}
	}
}

// setAt returns when each stock total was set.
func (p *prober) setAt() map[int64]time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.stockSetAt)
}

// admin posts body to one of the sale's admin endpoints. Its error's text
// is the error code to count.
func (p *prober) admin(ctx context.Context, path, body string) error {
	url := strings.TrimRight(p.o.URLs[0], "/") + "/v1/admin/sales/" + p.o.SaleID + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("probe_failed")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.o.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe_failed")
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("probe_%d", resp.StatusCode)
	}
	return nil
}

// currentStock reads the sale's stock total from its public page.
func (p *prober) currentStock(ctx context.Context) (int64, error) {
	url := strings.TrimRight(p.o.URLs[0], "/") + "/v1/sales/" + p.o.SaleID
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("read sale %s: %w", p.o.SaleID, err)
	}
	defer resp.Body.Close()
	var sale struct {
		Stock struct{ Total int64 } `json:"stock"`
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("read sale %s: status %d", p.o.SaleID, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&sale); err != nil {
		return 0, fmt.Errorf("read sale %s: %w", p.o.SaleID, err)
	}
	return sale.Stock.Total, nil
}
