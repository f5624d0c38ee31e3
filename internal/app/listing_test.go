package app_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/testenv"
)

// listedSaleKeys are every field the public listing tells of a sale: none of
// the operator's settings (SKU, checkout, identity, eligibility, limits,
// outflow), no flags and no invitees.
var listedSaleKeys = []string{"currency", "ends_at", "id", "name", "phase", "prequeue_at", "price_cents",
	"starts_at", "state", "stock_left"}

// listing is GET /v1/sales as a test reads it.
type listing struct {
	Status int
	Raw    []byte
	Sales  []map[string]json.RawMessage
	// Keys are the answer's own top-level fields.
	Keys []string
}

func (s *system) listing(t *testing.T, query string) listing {
	t.Helper()
	resp, err := http.Get(s.URL + "/v1/sales" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	l := listing{Status: resp.StatusCode}
	l.Raw, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return l
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(l.Raw, &top); err != nil {
		t.Fatalf("GET /v1/sales%s: %s: %v", query, l.Raw, err)
	}
	for k := range top {
		l.Keys = append(l.Keys, k)
	}
	slices.Sort(l.Keys)
	if err := json.Unmarshal(top["sales"], &l.Sales); err != nil {
		t.Fatalf("GET /v1/sales%s: sales %s: %v", query, top["sales"], err)
	}
	return l
}

// field is one field of a listed sale, as a string (JSON strings unquoted).
func field(sale map[string]json.RawMessage, name string) string {
	var s string
	if json.Unmarshal(sale[name], &s) == nil {
		return s
	}
	return string(sale[name])
}

// statesOf maps each listed sale's id to "state/phase".
func statesOf(l listing) map[string]string {
	out := map[string]string{}
	for _, s := range l.Sales {
		out[field(s, "id")] = field(s, "state") + "/" + field(s, "phase")
	}
	return out
}

// awaitSaleState waits until the sale's public view says state.
func (s *system) awaitSaleState(t *testing.T, saleID, state string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var sale struct {
			State string `json:"state"`
		}
		s.call(t, http.MethodGet, "/v1/sales/"+saleID, "", nil, &sale)
		if sale.State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sale %s is %q, want %q", saleID, sale.State, state)
		}
		time.Sleep(20 * time.Millisecond) // polling the admitter's next tick; the deadline bounds it
	}
}

// listingReads is how many times the node read the listing from Redis and
// Postgres (foyer_sale_listing_reads_total on its ops port).
func (s *system) listingReads(t *testing.T) int {
	t.Helper()
	resp, err := http.Get(s.OpsURLs[0] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "foyer_sale_listing_reads_total "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
	}
	t.Fatal("no foyer_sale_listing_reads_total on the ops port")
	return 0
}

func TestTheListingShowsEachSaleInItsStateAndNoneOfTheOperatorsSettings(t *testing.T) {
	sys := startSystem(t)
	checkoutURL := "https://shop.example/private-checkout?campaign=vip"
	upcoming := sys.createSale(t, map[string]any{"sku": "LIST-SKU-1", "name": "Later", "stock": 5, "price_cents": 1250,
		"currency": "EUR", "starts_at": startsIn(time.Hour)})
	prequeue := sys.createSale(t, map[string]any{"sku": "LIST-SKU-2", "name": "Soon", "stock": 5,
		"starts_at": startsIn(10 * time.Minute), "prequeue_seconds": 900})
	live := sys.createSale(t, map[string]any{"sku": "LIST-SKU-3", "name": "Now", "stock": 7, "price_cents": 999,
		"currency": "USD", "checkout": "shop", "checkout_url": checkoutURL, "identity": "optional", "per_shopper_limit": 2})
	stopped := sys.createSale(t, map[string]any{"sku": "LIST-SKU-4", "name": "Stopped", "stock": 3})
	invited := sys.createSale(t, map[string]any{"sku": "LIST-SKU-5", "name": "Invitees only", "stock": 3,
		"eligibility": "invited"})
	members := sys.createSale(t, map[string]any{"sku": "LIST-SKU-6", "name": "Members only", "stock": 3,
		"identity": "required"})
	if code := sys.call(t, http.MethodPost, "/v1/admin/sales/"+stopped+"/stop", sys.AdminToken, nil, nil); code != http.StatusOK {
		t.Fatalf("stop: %d", code)
	}
	sys.awaitSaleState(t, prequeue, "prequeue")
	sys.awaitSaleState(t, live, "open")
	sys.awaitSaleState(t, stopped, "ended")

	all := sys.listing(t, "")
	if all.Status != http.StatusOK {
		t.Fatalf("GET /v1/sales: %d %s", all.Status, all.Raw)
	}
	if want := []string{"sales", "truncated"}; !slices.Equal(all.Keys, want) {
		t.Errorf("the answer's fields are %v, want %v", all.Keys, want)
	}
	want := map[string]string{upcoming: "upcoming/scheduled", prequeue: "upcoming/prequeue", live: "live/open",
		stopped: "ended/ended"}
	if got := statesOf(all); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("listed %v, want %v (invited %s and identity-required %s left out)", got, want, invited, members)
	}
	for _, sale := range all.Sales {
		var keys []string
		for k := range sale {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, listedSaleKeys) {
			t.Errorf("sale %s is listed with %v, want exactly %v", field(sale, "id"), keys, listedSaleKeys)
		}
		if field(sale, "id") == live && (field(sale, "stock_left") != "7" || field(sale, "price_cents") != "999" ||
			field(sale, "currency") != "USD" || field(sale, "name") != "Now") {
			t.Errorf("the live sale is listed as %v", sale)
		}
	}
	for _, secret := range []string{"LIST-SKU", "shop.example", "campaign", "optional", "invited", "identity", "checkout"} {
		if strings.Contains(string(all.Raw), secret) {
			t.Errorf("the listing shows %q: %s", secret, all.Raw)
		}
	}
	// Upcoming ones soonest first, then live, then ended.
	var order []string
	for _, s := range all.Sales {
		order = append(order, field(s, "id"))
	}
	if wantOrder := []string{prequeue, upcoming, live, stopped}; !slices.Equal(order, wantOrder) {
		t.Errorf("listed in the order %v, want %v", order, wantOrder)
	}

	for query, ids := range map[string][]string{
		"?state=live": {live}, "?state=upcoming": {prequeue, upcoming}, "?state=ended": {stopped},
		"?state=ended,live": {live, stopped},
	} {
		l := sys.listing(t, query)
		var got []string
		for _, s := range l.Sales {
			got = append(got, field(s, "id"))
		}
		if l.Status != http.StatusOK || !slices.Equal(got, ids) {
			t.Errorf("GET /v1/sales%s: %d, %v, want %v", query, l.Status, got, ids)
		}
	}

	// The page that reads it is served at /sales, under the pages' policy.
	resp, err := http.Get(sys.URL + "/sales")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") ||
		!strings.Contains(string(page), "<h1>Sales</h1>") {
		t.Errorf("GET /sales: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), page)
	}
}

func TestTheListingRefusesABadStateAndReadsNothing(t *testing.T) {
	sys := startSystem(t)
	sys.createSale(t, map[string]any{"sku": "L-1", "name": "Listed", "stock": 2})
	for _, query := range []string{"?state=soon", "?state=", "?state=live,live", "?state=live&state=ended",
		"?state=LIVE", "?state=live,", "?state=" + strings.Repeat("live,", 1000)} {
		l := sys.listing(t, query)
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal(l.Raw, &body); err != nil || l.Status != http.StatusBadRequest ||
			body.Error.Code != "bad_request" || !strings.Contains(body.Error.Message, "upcoming, live and ended") {
			t.Errorf("GET /v1/sales%.40s: %d %s, want 400 bad_request naming the states", query, l.Status, l.Raw)
		}
	}
	if n := sys.listingReads(t); n != 0 {
		t.Errorf("bad queries read the listing %d times, want none", n)
	}
}

func TestACrowdOnTheListingCostsOneReadOfRedisAndPostgres(t *testing.T) {
	sys := startSystem(t)
	for i := range 3 {
		sys.createSale(t, map[string]any{"sku": fmt.Sprintf("C-%d", i), "name": fmt.Sprintf("Sale %d", i), "stock": 2, "starts_at": startsIn(time.Hour)})
	}
	hmgets := func() int {
		info, err := sys.Redis.Info(t.Context(), "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		return commandCalls(info, "hmget")
	}
	before := hmgets()
	const crowd, each = 20, 10
	started := time.Now()
	var wg sync.WaitGroup
	failures := make(chan string, crowd*each)
	for range crowd {
		wg.Go(func() {
			for range each {
				resp, err := http.Get(sys.URL + "/v1/sales")
				if err != nil {
					failures <- err.Error()
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, max-age=2" {
					failures <- fmt.Sprintf("%d %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
				}
			}
		})
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error("a listing request:", f)
	}
	elapsed := time.Since(started)
	// One read per two seconds at most: all of it, on a machine this fast.
	reads := sys.listingReads(t)
	if most := 1 + int(elapsed/(2*time.Second)); reads < 1 || reads > most {
		t.Errorf("%d requests in %v read the listing %d times, want 1 to %d", crowd*each, elapsed, reads, most)
	}
	// Each read asks Redis for the three sales' states in one pipeline: three
	// HMGETs a read, whatever the number of requests. The history's sampler
	// reads the same three once a second on its own (a slow machine's window
	// can hold one or two of its samples): a read per request would be 200.
	samples := 1 + int(elapsed/time.Second)
	if got := hmgets() - before; got > 3*reads+3*samples {
		t.Errorf("%d requests cost Redis %d HMGETs, want at most %d (%d reads, %d samples)", crowd*each, got, 3*reads+3*samples, reads, samples)
	}
	t.Logf("%d requests in %v: %d reads, %d HMGETs", crowd*each, elapsed, reads, hmgets()-before)
}

// commandCalls reads a command's calls from INFO commandstats.
func commandCalls(info, command string) int {
	for line := range strings.SplitSeq(info, "\r\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_"+command+":calls="); ok {
			n, _ := strconv.Atoi(strings.SplitN(rest, ",", 2)[0])
			return n
		}
	}
	return 0
}

func TestTheListingKeepsFiftyAStateAndEndedSalesAWeek(t *testing.T) {
	sys := startSystem(t)
	for i := range 51 {
		sys.createSale(t, map[string]any{"sku": fmt.Sprintf("U-%d", i), "name": fmt.Sprintf("Upcoming %02d", i), "stock": 1,
			"starts_at": startsIn(time.Hour + time.Duration(i)*time.Minute)})
	}
	lastWeek := sys.createSale(t, map[string]any{"sku": "E-6", "name": "Ended six days ago", "stock": 1, "starts_at": startsIn(2 * time.Hour)})
	longAgo := sys.createSale(t, map[string]any{"sku": "E-8", "name": "Ended eight days ago", "stock": 1, "starts_at": startsIn(2 * time.Hour)})
	// Times in the past cannot be given to a new sale: they are set in its
	// plan, Postgres, the system of record the listing reads them from.
	for id, endedDaysAgo := range map[string]int{lastWeek: 6, longAgo: 8} {
		end := time.Now().Add(-time.Duration(endedDaysAgo) * 24 * time.Hour)
		if _, err := sys.DB.Exec(`UPDATE sales SET starts_at = $2, ends_at = $3 WHERE id = $1`,
			id, end.Add(-time.Hour), end); err != nil {
			t.Fatal(err)
		}
	}

	up := sys.listing(t, "?state=upcoming")
	if up.Status != http.StatusOK || len(up.Sales) != 50 || !strings.Contains(string(up.Raw), `"truncated":true`) {
		t.Errorf("51 upcoming sales: %d, %d listed, %s; want 50 and truncated", up.Status, len(up.Sales), up.Raw[max(0, len(up.Raw)-40):])
	}
	if up.Status == http.StatusOK && field(up.Sales[0], "name") != "Upcoming 00" {
		t.Errorf("the first upcoming sale is %s, want the soonest", field(up.Sales[0], "name"))
	}
	ended := sys.listing(t, "?state=ended")
	want := map[string]string{lastWeek: "ended/ended"}
	if got := statesOf(ended); fmt.Sprint(got) != fmt.Sprint(want) || strings.Contains(string(ended.Raw), `"truncated":true`) {
		t.Errorf("ended: %v (%s), want only the sale ended six days ago, %v", got, ended.Raw, want)
	}
}

func TestTheListingSaysUnavailableWhileRedisIsDownAndListsAgainAfter(t *testing.T) {
	rs := testenv.NewRedis(t, testenv.WithAppendOnly())
	sys := startNodesOn(t, rs, 1, nil)
	saleID := sys.createSale(t, map[string]any{"sku": "LO-1", "name": "Outage", "stock": 2})
	if err := rs.Stop(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(sys.URL + "/v1/sales")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(raw), `"unavailable"`) ||
		resp.Header.Get("Retry-After") == "" {
		t.Errorf("the listing while Redis is down: %d %s (Retry-After %q), want 503 unavailable with Retry-After",
			resp.StatusCode, raw, resp.Header.Get("Retry-After"))
	}
	if err := rs.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A failed read is not kept: the next request reads again.
	deadline := time.Now().Add(15 * time.Second)
	for {
		l := sys.listing(t, "")
		if l.Status == http.StatusOK {
			if _, ok := statesOf(l)[saleID]; !ok {
				t.Errorf("after the outage the listing is %s, without the sale", l.Raw)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the listing after the outage: %d %s", l.Status, l.Raw)
		}
		time.Sleep(100 * time.Millisecond) // polling the node's reconnection; the deadline bounds it
	}
}
