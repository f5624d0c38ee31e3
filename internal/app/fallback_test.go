package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/waitingroom"
)

// dialOver opens the shopper's connection to a sale over w; it is closed
// when the test ends.
func (s shopperOn) dialOver(t *testing.T, ctx context.Context, url, saleID string, w shopperclient.Wire) *shopperclient.Conn {
	t.Helper()
	client := shopperclient.New(url)
	client.SetWire(w)
	conn, err := client.Connect(ctx, saleID, s.sess)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

// Shoppers joining in turn, every other one over the HTTP fallback, are
// given the places of their order of joining, each told its own: the
// fallback's streams stand in the same queue as the sockets, and the
// positions pushed equal the queue's ranks in Redis.
func TestShoppersOverEventsAndWebSocketsGetThePlacesOfTheirOrderOfJoining(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "F-1", "name": "Fallback", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	const shoppers = 6
	ins := make([]*inbox, shoppers)
	ids := make([]string, shoppers)
	for i := range shoppers {
		w := shopperclient.OverWebSocket
		if i%2 == 1 {
			w = shopperclient.OverEvents
		}
		s := newShopper(t, ctx, sys.URL)
		conn := s.dialOver(t, ctx, sys.URL, saleID, w)
		ins[i], ids[i] = listen(conn), s.sess.ShopperID
		if _, err := ins[i].wait(ctx, "welcome"); err != nil {
			t.Fatalf("shopper %d: %v", i, err)
		}
		if err := conn.Join(ctx); err != nil {
			t.Fatalf("shopper %d joins: %v", i, err)
		}
		waitPosition(t, ctx, ins[i], int64(i+1))
	}
	k := waitingroom.Keys(saleID)
	for i, id := range ids {
		rank, err := sys.Redis.ZRank(ctx, k.Queue, id).Result()
		if err != nil {
			t.Fatal(err)
		}
		if rank+1 != int64(i+1) {
			t.Errorf("shopper %d: told position %d, ranked %d in the queue", i, i+1, rank+1)
		}
	}
}

// A shopper over the fallback whose stream drops comes back within the
// grace period on a new stream and is told the place it had; the shopper
// behind it is never moved ahead.
func TestAStreamReopenedWithinGraceKeepsThePlace(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_GRACE_PERIOD": "30s"})
	saleID := sys.createSale(t, map[string]any{"sku": "F-2", "name": "Grace", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	a, b := newShopper(t, ctx, sys.URL), newShopper(t, ctx, sys.URL)
	aConn := a.dialOver(t, ctx, sys.URL, saleID, shopperclient.OverEvents)
	aIn := listen(aConn)
	aConn.Join(ctx)
	waitPosition(t, ctx, aIn, 1)
	bConn := b.dialOver(t, ctx, sys.URL, saleID, shopperclient.OverWebSocket)
	bIn := listen(bConn)
	bConn.Join(ctx)
	waitPosition(t, ctx, bIn, 2)

	aConn.CloseNow()
	again := listen(a.dialOver(t, ctx, sys.URL, saleID, shopperclient.OverEvents))
	waitPosition(t, ctx, again, 1)
	if rank, err := sys.Redis.ZRank(ctx, waitingroom.Keys(saleID).Queue, b.sess.ShopperID).Result(); err != nil || rank != 1 {
		t.Fatalf("the shopper behind is ranked %d (%v), want still second", rank+1, err)
	}
}

// An admission reaches a shopper over the fallback as it reaches a socket:
// an admitted message with a checkout token that checks out.
func TestAnAdmissionOverTheFallbackDeliversACheckoutTokenThatChecksOut(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "F-3", "name": "Admit", "stock": 3, "price_cents": 500,
		"outflow_per_second": 50})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	client := shopperclient.New(sys.URL)
	client.SetWire(shopperclient.OverEvents)
	conn, err := client.Arrive(ctx, saleID, nil) // session=new&join=1: the whole arrival in one request
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	in := listen(conn)
	admitted, err := in.wait(ctx, "admitted")
	if err != nil {
		t.Fatal(err)
	}
	if admitted.Token == "" || admitted.CheckoutURL == "" {
		t.Fatalf("admitted without a token or checkout URL: %s", admitted.Raw)
	}
	res, err := client.Checkout(ctx, admitted.CheckoutURL, admitted.Token)
	if err != nil {
		t.Fatalf("check out with the token the stream delivered: %v", err)
	}
	if res.ReservationID != admitted.ReservationID {
		t.Fatalf("checked out %s, admitted %s", res.ReservationID, admitted.ReservationID)
	}
}

// postedTo posts body to a sale's event stream with key, as the session
// token's shopper, and returns the answer's status and error code.
func postedTo(t *testing.T, ctx context.Context, base, saleID, key, token string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/sales/"+saleID+"/events?stream="+key, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(raw, &e)
	return resp.StatusCode, e.Error.Code
}

// Bad posts to event streams are refused with the error table's status and
// code, and change nothing: no one joins, and the stream they named is told
// nothing of them (its next answer is the one to its own next message).
func TestBadPostsToAStreamAreRefusedAndChangeNothing(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "F-4", "name": "Bad posts", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	victim, other := newShopper(t, ctx, sys.URL), newShopper(t, ctx, sys.URL)
	// The victim's stream, opened by hand so that the test knows its key.
	const key = "victimstreamkey0000000000"
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
		sys.URL+"/v1/sales/"+saleID+"/events?stream="+key+"&session="+victim.sess.Token, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" ||
		resp.Header.Get("X-Accel-Buffering") != "no" {
		t.Fatalf("stream answered %d %v", resp.StatusCode, resp.Header)
	}
	events := newEventReader(resp.Body)
	if m := events.next(t); m.Type != "welcome" {
		t.Fatalf("first event %+v, want the welcome", m)
	}

	// A second stream under the key an open one holds is refused before it
	// begins, whoever opens it.
	for _, token := range []string{other.sess.Token, victim.sess.Token} {
		again, _ := http.NewRequestWithContext(ctx, http.MethodGet,
			sys.URL+"/v1/sales/"+saleID+"/events?stream="+key+"&session="+token, nil)
		taken, err := http.DefaultClient.Do(again)
		if err != nil {
			t.Fatal(err)
		}
		taken.Body.Close()
		if taken.StatusCode != http.StatusConflict {
			t.Errorf("a second stream under a held key answered %d, want 409 stream_taken", taken.StatusCode)
		}
	}

	join := []byte(`{"type":"join"}`)
	for _, tc := range []struct {
		name       string
		key, token string
		body       []byte
		status     int
		code       string
	}{
		{"no session", key, "", join, http.StatusUnauthorized, "session_invalid"},
		{"a forged session", key, "forged." + victim.sess.Token, join, http.StatusUnauthorized, "session_invalid"},
		{"another shopper's stream", key, other.sess.Token, join, http.StatusNotFound, "stream_unknown"},
		{"an unknown stream", "nosuchstream000000000", victim.sess.Token, join, http.StatusNotFound, "stream_unknown"},
		{"a stream key too short", "short", victim.sess.Token, join, http.StatusBadRequest, "bad_request"},
		{"a stream key with a slash", "victimstreamkey/000000000", victim.sess.Token, join, http.StatusBadRequest, "bad_request"},
		{"an oversize body", key, victim.sess.Token, []byte(`{"type":"join","pad":"` + strings.Repeat("x", 5000) + `"}`),
			http.StatusRequestEntityTooLarge, "too_large"},
		{"not JSON", key, victim.sess.Token, []byte(`join me`), http.StatusBadRequest, "bad_message"},
		{"an unknown type", key, victim.sess.Token, []byte(`{"type":"jump"}`), http.StatusBadRequest, "bad_message"},
	} {
		status, code := postedTo(t, ctx, sys.URL, saleID, tc.key, tc.token, tc.body)
		if status != tc.status || code != tc.code {
			t.Errorf("%s: answered %d %s, want %d %s", tc.name, status, code, tc.status, tc.code)
		}
	}
	k := waitingroom.Keys(saleID)
	if n, err := sys.Redis.ZCard(ctx, k.Queue).Result(); err != nil || n != 0 {
		t.Fatalf("%d in the queue after refused posts (%v), want none", n, err)
	}
	// The stream was told nothing of them: the next event is the answer
	// to the victim's own next message.
	if status, code := postedTo(t, ctx, sys.URL, saleID, key, victim.sess.Token, []byte(`{"type":"time","client_time":42}`)); status != http.StatusNoContent {
		t.Fatalf("the victim's own message answered %d %s", status, code)
	}
	for {
		m := events.next(t)
		if m.Type == "time" && m.ClientTime == 42 {
			break
		}
		if m.Type == "error" || m.Type == "position" {
			t.Fatalf("the stream was told %s after refused posts", m.Raw)
		}
	}
}

// eventReader reads a stream's events by hand, as a browser would.
type eventReader struct {
	msgs chan shopperclient.Message
}

func newEventReader(body io.Reader) *eventReader {
	r := &eventReader{msgs: make(chan shopperclient.Message, 64)}
	go func() {
		defer close(r.msgs)
		buf := make([]byte, 0, 4096)
		chunk := make([]byte, 4096)
		for {
			n, err := body.Read(chunk)
			buf = append(buf, chunk[:n]...)
			for {
				end := bytes.Index(buf, []byte("\n\n"))
				if end < 0 {
					break
				}
				event := buf[:end]
				buf = buf[end+2:]
				for line := range bytes.SplitSeq(event, []byte("\n")) {
					if data, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
						var m shopperclient.Message
						_ = json.Unmarshal(data, &m)
						m.Raw = append([]byte(nil), data...)
						r.msgs <- m
					}
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return r
}

func (r *eventReader) next(t *testing.T) shopperclient.Message {
	t.Helper()
	select {
	case m, ok := <-r.msgs:
		if !ok {
			t.Fatal("the stream ended")
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no event in 10 s")
	}
	return shopperclient.Message{}
}

// A node that drains tells its streams what it tells its sockets, going
// away (1001), and its shutdown does not wait for them to end on their
// own; the shopper reopens its stream on another node and keeps its place.
func TestADrainingNodeClosesItsStreamsGoingAwayAndTheirPlacesAreKept(t *testing.T) {
	sys := startNodes(t, 1, nil)
	drained := sys.startGateway(t, "node-drained")
	saleID := sys.createSale(t, map[string]any{"sku": "F-D", "name": "Drain", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	first, s := newShopper(t, ctx, sys.URL), newShopper(t, ctx, sys.URL)
	firstConn := first.dialOver(t, ctx, sys.URL, saleID, shopperclient.OverWebSocket)
	firstIn := listen(firstConn)
	firstConn.Join(ctx)
	waitPosition(t, ctx, firstIn, 1)
	conn := s.dialOver(t, ctx, drained.URL, saleID, shopperclient.OverEvents)
	in := listen(conn)
	conn.Join(ctx)
	waitPosition(t, ctx, in, 2)

	drained.Stop() // returns once the node's HTTP server has shut down: no stream held it up
	if _, err := in.wait(ctx, "never"); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("the stream on the drained node ended with %v, want close 1001", err)
	}
	again := listen(s.dialOver(t, ctx, sys.URL, saleID, shopperclient.OverEvents))
	waitPosition(t, ctx, again, 2)
}

// A stream's messages are limited as a socket's are, not as HTTP requests:
// an address's request limit does not refuse them (a proxy that blocks
// WebSockets puts many shoppers behind one address), while posts that reach
// no stream are charged to it and refused past it.
func TestAStreamsPostsAreLimitedAsSocketMessagesAndRefusedOnesAsRequests(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_LIMIT_IP_REQUESTS": "3"})
	saleID := sys.createSale(t, map[string]any{"sku": "F-R", "name": "Limits", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s := newShopper(t, ctx, sys.URL)
	conn := s.dialOver(t, ctx, sys.URL, saleID, shopperclient.OverEvents)
	in := listen(conn)
	if _, err := in.wait(ctx, "welcome"); err != nil {
		t.Fatal(err)
	}
	// Eight time requests at once: over the address's 3 a second (bursts
	// of 6), within the connection's 10 per 10 s.
	for i := range 8 {
		if err := conn.Send(ctx, map[string]any{"type": "time", "client_time": i + 1}); err != nil {
			t.Fatalf("time request %d refused: %v", i+1, err)
		}
	}
	for range 8 {
		if _, err := in.next(ctx, "time"); err != nil {
			t.Fatal(err)
		}
	}
	limited := false
	for range 10 {
		if status, code := postedTo(t, ctx, sys.URL, saleID, "nosuchstream000000000", s.sess.Token, []byte(`{"type":"ping"}`)); status == http.StatusTooManyRequests && code == "rate_limited" {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("ten posts to no stream at once were never refused rate_limited")
	}
}
