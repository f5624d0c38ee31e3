package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	exampleshop "github.com/foyerhq/foyer/examples/shop"
	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/internal/webhooks"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// The drop of TestAWholeDropRunsThroughTheExampleShop.
const (
	dropCustomers = 500
	dropInvited   = 50
	inviteEvery   = dropCustomers / dropInvited // every tenth customer is invited
	dropStock     = 40
	// dropArrivals is how many customers arrive at once: enough to keep
	// both cores busy, few enough that no arrival waits on another's socket.
	dropArrivals = 24
	// outageAt is the rank (by first arrival) of the order.paid event that
	// finds the shop's webhook endpoint down, and outageFor how long it stays
	// down: a deliberate outage, timed.
	outageAt  = 20
	outageFor = 5 * time.Second
)

// TestAWholeDropRunsThroughTheExampleShop is issue 19's proof: a drop of 40
// units for 500 of the example shop's customers, of whom 50 are invited,
// with the shop's checkout, on two gateway nodes over real Redis and
// Postgres. The 450 others are refused and queue nothing; a customer with
// two browsers holds one place; the 40 first invited pay at the shop, which
// redeems each; the 10 others are told the sale sold out. The shop gets each
// order.paid once, although its endpoint refuses the first attempt of every
// third event and is down for 5 s in the middle; Foyer's delivery log shows
// the retries, and nothing was sold twice.
func TestAWholeDropRunsThroughTheExampleShop(t *testing.T) {
	sys := startNodes(t, 2, withIdentitySecret())
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// The shop's server first: its URL is the webhook endpoint's and the
	// sale's checkout, and the shop is built with what registering them gives
	// (the endpoint's secret, the sale it sells).
	var handler atomic.Pointer[http.Handler]
	shopSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.Error(w, "the shop is starting", http.StatusServiceUnavailable)
	}))
	t.Cleanup(shopSrv.Close)
	redeemKey := sys.createShopKey(t, "the shop's checkout", "redeem")
	ordersKey := sys.createShopKey(t, "the shop's back office", "orders")
	var ep createdEndpoint
	if status := sys.call(t, http.MethodPost, "/v1/admin/webhooks", sys.AdminToken, map[string]any{
		"url": shopSrv.URL + "/webhooks/foyer", "events": []string{"order.paid"}, "description": "the example shop"},
		&ep); status != http.StatusCreated || !strings.HasPrefix(ep.Secret, "whsec_") {
		t.Fatalf("register the shop's endpoint: %d %+v", status, ep)
	}
	// The sale admits nobody until everyone has arrived, so that who is
	// served is the queue's order, and the last 10 invited are the ones
	// left without a unit.
	saleID := sys.createSale(t, map[string]any{"sku": "DROP-1", "name": "The whole drop", "stock": dropStock,
		"price_cents": 9900, "currency": "USD", "outflow_per_second": stalled, "reservation_ttl_seconds": 600,
		"identity": "required", "eligibility": "invited", "checkout": "shop", "checkout_url": shopSrv.URL + "/checkout"})
	paid := make(chan exampleshop.Event, 2*dropStock)
	shop, err := exampleshop.New(ctx, exampleshop.Config{FoyerURL: sys.URL, ShopKey: redeemKey.Key,
		IdentitySecret: testIdentitySecret, WebhookSecret: ep.Secret, SaleIDs: []string{saleID},
		OnEvent: func(ev exampleshop.Event) { paid <- ev }})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := newFlakyEndpoint(shop)
	var h http.Handler = endpoint
	handler.Store(&h)

	invitees := []string{"customer_id"}
	for i := 0; i < dropCustomers; i += inviteEvery {
		invitees = append(invitees, dropCustomer(i))
	}
	sys.putInvitees(t, saleID, strings.Join(invitees, "\n")+"\n")

	// An invited customer opens the drop in two browsers, one on each node:
	// both are the same shopper, with one place.
	twin := dropCustomer(0)
	var browsers [2]*dropBrowser
	var twinWS [2]*websocket.Conn
	for b := range browsers {
		if browsers[b], err = signIn(ctx, shopSrv.URL, twin); err != nil {
			t.Fatal(err)
		}
		var welcome shopperclient.Message
		if twinWS[b], welcome, err = browsers[b].arrive(ctx, sys.URLs[b], saleID); err != nil {
			t.Fatalf("browser %d of %s: %v", b+1, twin, err)
		}
		t.Cleanup(func() { twinWS[b].CloseNow() })
		if m, err := readUntil(ctx, twinWS[b], "position"); err != nil || m.Position != 1 {
			t.Fatalf("browser %d of %s: position %d (%v), want 1", b+1, twin, m.Position, err)
		}
		if !strings.HasPrefix(welcome.You.ShopperID, "c_") {
			t.Fatalf("browser %d of %s is shopper %q, want a customer", b+1, twin, welcome.You.ShopperID)
		}
		browsers[b].shopperID = welcome.You.ShopperID
	}
	if browsers[0].shopperID != browsers[1].shopperID {
		t.Fatalf("%s's two browsers are shoppers %s and %s, want one", twin, browsers[0].shopperID, browsers[1].shopperID)
	}

	// Everyone else arrives, a few at a time, each with a fresh identity
	// token from the shop, on either node.
	type waiting struct {
		customer *dropBrowser
		ws       *websocket.Conn
		position int64 // when it joined: nobody leaves before the drop starts
	}
	var (
		mu      sync.Mutex
		queued  []waiting
		refused int
	)
	arrivals, actx := errgroup.WithContext(ctx)
	arrivals.SetLimit(dropArrivals)
	for i := 1; i < dropCustomers; i++ {
		// Every other customer on each node, the invited too.
		id, node := dropCustomer(i), sys.URLs[(i+i/inviteEvery)%len(sys.URLs)]
		invited := i%inviteEvery == 0
		arrivals.Go(func() error {
			c, err := signIn(actx, shopSrv.URL, id)
			if err != nil {
				return err
			}
			ws, _, err := c.arrive(actx, node, saleID)
			if err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
			m, err := readUntil(actx, ws, "position", "error")
			if err != nil {
				ws.CloseNow()
				return fmt.Errorf("%s: %w", id, err)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case invited && m.Type == "position":
				queued = append(queued, waiting{c, ws, m.Position})
			case !invited && m.Type == "error" && m.Code == "not_eligible":
				refused++
				ws.CloseNow()
			default:
				ws.CloseNow()
				return fmt.Errorf("%s (invited: %v) was told %s %s", id, invited, m.Type, m.Code)
			}
			return nil
		})
	}
	if err := arrivals.Wait(); err != nil {
		t.Fatal(err)
	}
	for _, q := range queued {
		t.Cleanup(func() { q.ws.CloseNow() })
	}
	if len(queued) != dropInvited-1 || refused != dropCustomers-dropInvited {
		t.Fatalf("%d invited queued and %d others refused, want %d and %d", len(queued), refused, dropInvited-1, dropCustomers-dropInvited)
	}
	// The refused queued nothing, and the twin's second browser no second place.
	meta := metaOf(t, sys, saleID)
	if journeys := sys.Redis.HLen(ctx, waitingroom.Keys(saleID).Journeys).Val(); meta["seq"] != fmt.Sprint(dropInvited) || journeys != dropInvited {
		t.Fatalf("%s tickets and %d journeys in the queue, want %d of each", meta["seq"], journeys, dropInvited)
	}

	for n := range sys.URLs {
		if on := sys.Redis.SCard(ctx, waitingroom.Keys(saleID).Conns(fmt.Sprintf("node-%d", n+1))).Val(); on < dropInvited/3 {
			t.Fatalf("node-%d holds %d of the queued, want them spread over the nodes", n+1, on)
		}
	}

	// The drop starts: the admitted pay at the shop, the others hear it sold out.
	sys.admin(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/rate", map[string]any{"outflow_per_second": 100}, http.StatusOK)
	var (
		bought  = map[string]string{} // reservation id -> the customer who paid for it
		soldOut []int64               // the places of those told sold out
	)
	buyers, bctx := errgroup.WithContext(ctx)
	for _, q := range queued {
		buyers.Go(func() error {
			m, err := readUntil(bctx, q.ws, "admitted", "sold_out")
			if err != nil {
				return fmt.Errorf("%s waiting: %w", q.customer.id, err)
			}
			if m.Type == "sold_out" {
				mu.Lock()
				soldOut = append(soldOut, q.position)
				mu.Unlock()
				return nil
			}
			if err := q.customer.buy(bctx, m, false); err != nil {
				return err
			}
			mu.Lock()
			bought[m.ReservationID] = q.customer.id
			mu.Unlock()
			return nil
		})
	}
	// The twin is admitted once, in both browsers, and pays in one; the
	// other browser's pay (a second click elsewhere) is the same order.
	buyers.Go(func() error {
		var admitted [2]shopperclient.Message
		for b := range browsers {
			var err error
			if admitted[b], err = readUntil(bctx, twinWS[b], "admitted"); err != nil {
				return fmt.Errorf("browser %d of %s: %w", b+1, twin, err)
			}
		}
		if admitted[0].ReservationID != admitted[1].ReservationID {
			return fmt.Errorf("%s's browsers hold reservations %s and %s, want one", twin, admitted[0].ReservationID, admitted[1].ReservationID)
		}
		if err := browsers[0].buy(bctx, admitted[0], false); err != nil {
			return err
		}
		if err := browsers[1].buy(bctx, admitted[1], true); err != nil {
			return err
		}
		mu.Lock()
		bought[admitted[0].ReservationID] = twin
		mu.Unlock()
		return nil
	})
	if err := buyers.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(bought) != dropStock || len(soldOut) != dropInvited-dropStock {
		t.Fatalf("%d reservations bought and %d customers told sold out, want %d and %d", len(bought), len(soldOut), dropStock, dropInvited-dropStock)
	}
	// Served first come, first served: those left are the last in the queue.
	slices.Sort(soldOut)
	for i, place := range soldOut {
		if place != int64(dropStock+1+i) {
			t.Errorf("the customers told sold out were at places %v, want %d to %d", soldOut, dropStock+1, dropInvited)
			break
		}
	}

	// Every order.paid reaches the shop, once each, through the outage.
	events := map[string]exampleshop.Event{}
	for len(events) < dropStock {
		select {
		case ev := <-paid:
			if _, twice := events[ev.ID]; twice {
				t.Fatalf("the shop took event %s twice", ev.ID)
			}
			events[ev.ID] = ev
		case <-ctx.Done():
			t.Fatalf("the shop got %d order.paid events, want %d", len(events), dropStock)
		}
	}
	shopOrders := map[string]exampleshop.Order{}
	for _, o := range shop.Orders() {
		shopOrders[o.ReservationID] = o
	}
	if len(shopOrders) != dropStock || len(shop.Events()) != dropStock {
		t.Fatalf("the shop has %d orders and %d events, want %d of each", len(shopOrders), len(shop.Events()), dropStock)
	}
	evOf := map[string]string{} // reservation id -> its order.paid event
	for _, ev := range events {
		var d webhooks.OrderData
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		o, ok := shopOrders[d.ReservationID]
		switch {
		case ev.Type != webhooks.OrderPaid || ev.SaleID != saleID:
			t.Errorf("event %s is %s of sale %s", ev.ID, ev.Type, ev.SaleID)
		case !ok || evOf[d.ReservationID] != "":
			t.Errorf("event %s is for reservation %s: not the shop's, or paid twice", ev.ID, d.ReservationID)
		case d.ShopOrderRef != o.Ref || d.CustomerID != bought[d.ReservationID] || d.Status != "paid" || d.Quantity != 1 || d.AmountCents != 9900:
			t.Errorf("event %s: %+v, want the shop's order %+v", ev.ID, d, o)
		}
		evOf[d.ReservationID] = ev.ID
	}
	for res, who := range bought {
		o := shopOrders[res]
		if o.Status != "paid" || o.CustomerID != who || o.Ref != exampleshop.OrderRef(res) || strings.Join(o.Events, ",") != "order.paid" {
			t.Errorf("the shop's order of %s: %+v, want paid by %s", res, o, who)
		}
	}

	// The endpoint refused what the test made it refuse, and the shop took
	// each event once all the same.
	arrived, refusedAt, down := endpoint.counts()
	if down == 0 {
		t.Errorf("no delivery found the endpoint down")
	}
	for id := range events {
		if arrived[id] != refusedAt[id]+1 {
			t.Errorf("event %s arrived %d times and was refused %d, want one arrival past its refusals", id, arrived[id], refusedAt[id])
		}
		if rank := endpoint.rankOf(id); (rank%3 == 0 || rank == outageAt) && refusedAt[id] == 0 {
			t.Errorf("event %s (%d. to arrive) was never refused", id, rank)
		}
	}

	// Foyer's log shows each delivered, after as many attempts as arrived.
	log := sys.awaitDelivered(t, ctx, ep.ID, dropStock)
	retried := 0
	for _, d := range log {
		if d.Status != "delivered" || d.Attempts != arrived[d.EventID] || events[d.EventID].ID == "" {
			t.Errorf("log line %+v, want delivered after %d attempts", d, arrived[d.EventID])
		}
		if d.Attempts > 1 {
			retried++
		}
	}
	t.Logf("%d deliveries retried; the outage refused %d attempts", retried, down)
	if retried < dropStock/3 {
		t.Errorf("%d deliveries retried, want at least %d", retried, dropStock/3)
	}

	// Foyer's orders are the shop's, seen with the shop's own key.
	var page ordersPage
	if status := sys.call(t, http.MethodGet, "/v1/shop/sales/"+saleID+"/orders?limit=100", ordersKey.Key, nil, &page); status != http.StatusOK ||
		len(page.Orders) != dropStock || page.NextCursor != nil {
		t.Fatalf("the Orders API: %d, %d orders, want %d", status, len(page.Orders), dropStock)
	}
	for _, o := range page.Orders {
		s, ok := shopOrders[o.ReservationID]
		if !ok || o.Status != "paid" || o.ShopOrderRef == nil || *o.ShopOrderRef != s.Ref || o.CustomerID != s.CustomerID || o.Quantity != 1 {
			t.Errorf("Foyer's order %+v, want the shop's %+v", o, s)
		}
	}
	meta = metaOf(t, sys, saleID)
	if meta["sold"] != fmt.Sprint(dropStock) || meta["held"] != "0" || meta["available"] != "0" || meta["state"] != string(waitingroom.StateSoldOut) {
		t.Errorf("the sale in Redis: sold %s, held %s, available %s, %s; want %d, 0, 0, sold_out", meta["sold"], meta["held"], meta["available"], meta["state"], dropStock)
	}
	if n := sys.count(t, `SELECT count(*) FROM orders WHERE sale_id = $1 AND status = 'paid'`, saleID); n != dropStock || sys.countOrders(t, saleID) != dropStock {
		t.Errorf("%d paid orders in Postgres, want %d and no other", n, dropStock)
	}
	sys.reconciled(t, ctx, saleID)
}

func dropCustomer(i int) string { return fmt.Sprintf("cust-%03d", i) }

// dropBrowser is one browser of a customer of the example shop, signed in;
// unlike shopCustomer it is safe to use from the test's goroutines.
type dropBrowser struct {
	id, shopURL string
	browser     *http.Client
	shopperID   string // at Foyer, once known
}

// signIn signs customer id in at the shop in a new browser.
func signIn(ctx context.Context, shopURL, id string) (*dropBrowser, error) {
	jar, _ := cookiejar.New(nil)
	c := &dropBrowser{id: id, shopURL: shopURL, browser: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
	status, body, err := c.send(ctx, http.MethodPost, shopURL+"/login", url.Values{"customer_id": {id}})
	if err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("sign %s in at the shop: %d %s %v", id, status, body, err)
	}
	return c, nil
}

// send is a request of the browser: a GET, or a POST of a form.
func (c *dropBrowser) send(ctx context.Context, method, u string, form url.Values) (int, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.browser.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), err
}

// arrive takes a fresh identity token from the shop and opens the sale at
// the node at base with it, joining at once, as the shop's drop page does;
// it returns the socket and its welcome.
func (c *dropBrowser) arrive(ctx context.Context, base, saleID string) (*websocket.Conn, shopperclient.Message, error) {
	status, body, err := c.send(ctx, http.MethodGet, c.shopURL+"/identity-token", nil)
	var tok struct{ Token string }
	if err != nil || status != http.StatusOK || json.Unmarshal([]byte(body), &tok) != nil || tok.Token == "" {
		return nil, shopperclient.Message{}, fmt.Errorf("identity token from the shop: %d %s %v", status, body, err)
	}
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/v1/sales/"+saleID+"/ws?session=new&join=1",
		&websocket.DialOptions{Subprotocols: []string{wire.Subprotocol, "identity." + tok.Token}})
	if err != nil {
		return nil, shopperclient.Message{}, err
	}
	welcome, err := readUntil(ctx, ws, "welcome", "error")
	if err == nil && welcome.Type != "welcome" {
		err = fmt.Errorf("told %s %s before a welcome", welcome.Type, welcome.Code)
	}
	if err != nil {
		ws.CloseNow()
		return nil, shopperclient.Message{}, err
	}
	return ws, welcome, nil
}

// orderRef finds the order reference on the shop's thank-you page, and
// csrfOf the CSRF token in the forms of its checkout page.
var (
	orderRef = regexp.MustCompile(`id="order-ref">([^<]+)<`)
	csrfOf   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// buy follows an admitted message to the shop's checkout page and pays
// there; again says the reservation was paid already, in another browser.
func (c *dropBrowser) buy(ctx context.Context, admitted shopperclient.Message, again bool) error {
	u, err := url.Parse(admitted.CheckoutURL)
	if err != nil || !strings.HasPrefix(admitted.CheckoutURL, c.shopURL+"/checkout?") {
		return fmt.Errorf("%s admitted to %q, want the shop's checkout", c.id, admitted.CheckoutURL)
	}
	status, page, err := c.send(ctx, http.MethodGet, admitted.CheckoutURL, nil)
	csrf := csrfOf.FindStringSubmatch(page)
	if err != nil || status != http.StatusOK || !strings.Contains(page, "/checkout/pay") || csrf == nil {
		return fmt.Errorf("%s's checkout page: %d %v %s", c.id, status, err, page)
	}
	status, body, err := c.send(ctx, http.MethodPost, c.shopURL+"/checkout/pay", url.Values{
		"foyer_token": {u.Query().Get("foyer_token")}, "foyer_sale": {u.Query().Get("foyer_sale")}, "csrf": {csrf[1]}})
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("%s pays (again: %v): %d %v %s", c.id, again, status, err, body)
	}
	if m := orderRef.FindStringSubmatch(body); m == nil || m[1] != exampleshop.OrderRef(admitted.ReservationID) {
		return fmt.Errorf("%s paid, but the shop's page shows order %v, want %s", c.id, m, exampleshop.OrderRef(admitted.ReservationID))
	}
	return nil
}

// readUntil reads a socket until a message of one of types.
func readUntil(ctx context.Context, ws *websocket.Conn, types ...string) (shopperclient.Message, error) {
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return shopperclient.Message{}, fmt.Errorf("waiting for %v: %w", types, err)
		}
		var m shopperclient.Message
		if err := json.Unmarshal(data, &m); err != nil {
			return m, fmt.Errorf("message %q: %w", data, err)
		}
		for _, typ := range types {
			if m.Type == typ {
				return m, nil
			}
		}
		if m.Type == "error" {
			return m, fmt.Errorf("error %s (%s) while waiting for %v", m.Code, m.Message, types)
		}
	}
}

// flakyEndpoint stands in front of the shop's webhook endpoint and refuses
// (503) the first attempt of every third event, and every attempt for
// outageFor once the outageAt-th event has first arrived; it counts what
// arrived and what it refused, by event id.
type flakyEndpoint struct {
	shop http.Handler

	mu       sync.Mutex
	rank     map[string]int // event id -> its place in the order of first arrivals, from 1
	arrived  map[string]int
	refused  map[string]int
	down     bool
	downHits int // attempts refused because the endpoint was down
}

func newFlakyEndpoint(shop http.Handler) *flakyEndpoint {
	return &flakyEndpoint{shop: shop, rank: map[string]int{}, arrived: map[string]int{}, refused: map[string]int{}}
}

func (e *flakyEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/webhooks/foyer" {
		e.shop.ServeHTTP(w, r)
		return
	}
	id := r.Header.Get("Foyer-Event-Id")
	e.mu.Lock()
	e.arrived[id]++
	rank, seen := e.rank[id]
	if !seen {
		rank = len(e.rank) + 1
		e.rank[id] = rank
		if rank == outageAt {
			e.down = true
			time.AfterFunc(outageFor, func() { e.mu.Lock(); e.down = false; e.mu.Unlock() })
		}
	}
	refuse := e.down || (!seen && rank%3 == 0)
	if refuse {
		e.refused[id]++
		if e.down {
			e.downHits++
		}
	}
	e.mu.Unlock()
	if refuse {
		http.Error(w, "the shop's endpoint is down", http.StatusServiceUnavailable)
		return
	}
	e.shop.ServeHTTP(w, r)
}

// counts are the attempts that arrived and were refused, by event id, and
// how many the outage refused.
func (e *flakyEndpoint) counts() (arrived, refused map[string]int, down int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	arrived, refused = map[string]int{}, map[string]int{}
	for id, n := range e.arrived {
		arrived[id] = n
	}
	for id, n := range e.refused {
		refused[id] = n
	}
	return arrived, refused, e.downHits
}

func (e *flakyEndpoint) rankOf(id string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rank[id]
}

// awaitDelivered reads an endpoint's delivery log until want deliveries are
// delivered, and returns the whole log.
func (s *system) awaitDelivered(t *testing.T, ctx context.Context, endpointID string, want int) []webhooks.Delivery {
	t.Helper()
	for {
		var log webhooks.LogPage
		if status := s.call(t, http.MethodGet, "/v1/admin/webhooks/"+endpointID+"/deliveries?limit=500", s.AdminToken, nil, &log); status != http.StatusOK {
			t.Fatalf("delivery log: %d", status)
		}
		delivered := 0
		for _, d := range log.Deliveries {
			if d.Status == "delivered" {
				delivered++
			}
		}
		if delivered >= want {
			return log.Deliveries
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d deliveries delivered in the log", delivered, want)
		case <-time.After(20 * time.Millisecond): // the worker records a 2xx just after the shop answered it; Postgres tells nobody
		}
	}
}
