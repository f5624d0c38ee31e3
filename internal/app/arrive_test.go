package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// arrive opens a sale's WebSocket with session=new&join=1 and returns the
// connection and the session the welcome gave.
func arrive(t *testing.T, ctx context.Context, client *shopperclient.Client, saleID string) (*shopperclient.Conn, shopperclient.Session) {
	t.Helper()
	conn, err := client.Arrive(ctx, saleID, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	welcome := expectMessage(t, ctx, conn, "welcome")
	sess, ok := welcome.MadeSession()
	if !ok || sess.Token == "" || sess.ShopperID == "" || !sess.ExpiresAt.After(time.Now()) {
		t.Fatalf("the welcome gave no usable session: %+v", welcome.You)
	}
	return conn, sess
}

func TestANewShopperArrivesSessionSocketAndJoinInOneRequest(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "A-1", "name": "Arrive", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := shopperclient.New(sys.URL)

	first, firstSess := arrive(t, ctx, client, saleID)
	if m := expectMessage(t, ctx, first, "position"); m.Position != 1 {
		t.Fatalf("the first to arrive is at %d, want 1", m.Position)
	}
	second, secondSess := arrive(t, ctx, client, saleID)
	if m := expectMessage(t, ctx, second, "position"); m.Position != 2 {
		t.Fatalf("the second to arrive is at %d, want 2", m.Position)
	}
	if firstSess.ShopperID == secondSess.ShopperID {
		t.Fatalf("two arrivals were given the same shopper %s", firstSess.ShopperID)
	}
	if n := sys.queueLength(t, saleID); n != 2 {
		t.Fatalf("%d in the queue, want 2", n)
	}

	// The session made is a real one: reconnecting with it finds the place,
	// and arriving again with it keeps the place rather than taking another.
	second.CloseNow()
	back, err := client.Connect(ctx, saleID, secondSess)
	if err != nil {
		t.Fatal(err)
	}
	defer back.CloseNow()
	if m := expectMessage(t, ctx, back, "welcome"); m.You.ShopperID != secondSess.ShopperID || m.You.Session != nil {
		t.Fatalf("welcomed as %q with session %v, want %s and no new session", m.You.ShopperID, m.You.Session, secondSess.ShopperID)
	}
	if m := expectMessage(t, ctx, back, "position"); m.Position != 2 {
		t.Fatalf("back at %d, want 2", m.Position)
	}
	again, err := client.Arrive(ctx, saleID, &firstSess)
	if err != nil {
		t.Fatal(err)
	}
	defer again.CloseNow()
	if m := expectMessage(t, ctx, again, "position"); m.Position != 1 {
		t.Fatalf("arriving again with a session: position %d, want 1", m.Position)
	}
	if n := sys.queueLength(t, saleID); n != 2 {
		t.Fatalf("%d in the queue after arriving again, want 2", n)
	}
}

func TestABadJoinParameterIsRefusedBeforeTheUpgradeAndChangesNothing(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "A-2", "name": "Bad arrive", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, query := range []string{"session=new&join=yes", "session=new&join=0", "session=new&join="} {
		status, code := upgradeRefusal(t, ctx, sys.URL+"/v1/sales/"+saleID+"/ws?"+query)
		wantStatus, wantCode := http.StatusBadRequest, "bad_request"
		if query == "session=new&join=" { // empty is absent: a session, no join
			wantStatus, wantCode = http.StatusSwitchingProtocols, ""
		}
		if status != wantStatus || code != wantCode {
			t.Errorf("%s: %d %q, want %d %q", query, status, code, wantStatus, wantCode)
		}
	}
	if n := sys.queueLength(t, saleID); n != 0 {
		t.Fatalf("%d in the queue, want none", n)
	}
}

// upgradeRefusal asks for a WebSocket by hand and returns the answer's
// status and error code.
func upgradeRefusal(t *testing.T, ctx context.Context, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			t.Fatalf("the refusal is not JSON: %v", err)
		}
	}
	return resp.StatusCode, e.Error.Code
}

func TestSessionsMadeAtTheSocketCountAgainstTheAddressesLimit(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_LIMIT_IP_SESSIONS": "3"})
	saleID := sys.createSale(t, map[string]any{"sku": "A-3", "name": "Arrive flood", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := shopperclient.NewWithTransport(sys.URL, transportFrom("127.0.0.3"))
	arrived, refused := 0, 0
	for range 12 {
		conn, err := client.Arrive(ctx, saleID, nil)
		if err != nil {
			t.Fatalf("arrival failed before the upgrade: %v", err)
		}
		defer conn.CloseNow()
		// Over the limit, the socket says why and closes with 1013: a
		// browser could read neither a 429 nor its Retry-After.
		switch m := expectOneOf(t, ctx, conn, "welcome", "error"); {
		case m.Type == "welcome":
			expectMessage(t, ctx, conn, "position")
			arrived++
		case m.Code == "rate_limited" && m.RetryAfter > 0:
			if code := expectClose(t, ctx, conn); code != websocket.StatusTryAgainLater {
				t.Fatalf("a refused arrival closed with %d, want 1013", code)
			}
			refused++
		default:
			t.Fatalf("arrival answered %s %s", m.Type, m.Code)
		}
	}
	if refused == 0 || arrived == 0 {
		t.Fatalf("%d arrived and %d were refused; want the limit of 3 a second to refuse some", arrived, refused)
	}
	if n := sys.queueLength(t, saleID); n != int64(arrived) {
		t.Fatalf("%d in the queue, want the %d that arrived: a refused arrival must change nothing", n, arrived)
	}
}

func TestASocketRefusedBeforeItsSessionIsMadeCountsNoSession(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_SIGNAL_SESSIONS_PER_IP": "2"})
	saleID := sys.createSale(t, map[string]any{"sku": "A-5", "name": "Arrive count", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := shopperclient.NewWithTransport(sys.URL, transportFrom("127.0.0.5"))
	// The address's tally of sessions, which the signal many_identities reads.
	tally := func() int64 {
		t.Helper()
		n, err := sys.Redis.Get(ctx, "foyer:rl:tally:sessions:127.0.0.5").Int64()
		if err != nil && !errors.Is(err, redis.Nil) {
			t.Fatal(err)
		}
		return n
	}
	for range 3 {
		conn, err := client.Arrive(ctx, "s_nosuchsale", nil)
		if err != nil {
			t.Fatal(err)
		}
		if code := expectClose(t, ctx, conn); code != 4004 {
			t.Fatalf("an arrival at no sale closed with %d, want 4004", code)
		}
	}
	if n := tally(); n != 0 {
		t.Fatalf("the address made %d sessions by arriving at no sale, want none", n)
	}
	conn, _ := arrive(t, ctx, client, saleID)
	if m := expectMessage(t, ctx, conn, "position"); m.Position != 1 {
		t.Fatalf("position %d, want 1", m.Position)
	}
	if n := tally(); n != 1 {
		t.Fatalf("the address made %d sessions, want the 1 that arrived", n)
	}
}

func TestAnArrivalIntoASaleAskingProofOfWorkJoinsOnceSolved(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "A-4", "name": "Arrive pow", "stock": 5,
		"outflow_per_second": stalled, "pow_difficulty": 12})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := shopperclient.New(sys.URL)

	// By hand: the join asked with the socket is answered with the
	// challenge, and nobody is queued without a solution.
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(sys.URL, "http")+"/v1/sales/"+saleID+"/ws?session=new&join=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	read := func(typ string) shopperclient.Message {
		t.Helper()
		for {
			var m shopperclient.Message
			if err := wsjson.Read(ctx, ws, &m); err != nil {
				t.Fatalf("waiting for %s: %v", typ, err)
			}
			if m.Type == typ {
				return m
			}
		}
	}
	if m := read("welcome"); m.Pow == nil || m.Pow.Difficulty != 12 {
		t.Fatalf("the welcome's challenge: %+v, want one of difficulty 12", m.Pow)
	}
	refusal := read("error")
	if refusal.Code != "pow_required" || refusal.Pow == nil || refusal.Pow.Challenge == "" {
		t.Fatalf("the join asked with the socket got %s with challenge %+v, want pow_required with one", refusal.Code, refusal.Pow)
	}
	if n := sys.queueLength(t, saleID); n != 0 {
		t.Fatalf("%d queued before any solution, want none", n)
	}
	challenge := refusal.Pow.Challenge
	join := map[string]any{"type": "join", "pow": map[string]string{"challenge": challenge, "solution": solved(t, challenge)}}
	if err := wsjson.Write(ctx, ws, join); err != nil {
		t.Fatal(err)
	}
	if m := read("position"); m.Position != 1 {
		t.Fatalf("position %d after solving, want 1", m.Position)
	}

	// The Go client solves by itself.
	solver, _ := arrive(t, ctx, client, saleID)
	if m := expectOneOf(t, ctx, solver, "position", "error"); m.Type != "position" || m.Position != 2 {
		t.Fatalf("the client's arrival got %s %s at %d, want position 2", m.Type, m.Code, m.Position)
	}
}

// TestANewShoppersFirstSocketCountsUnderItsCap: on a node that follows the
// sale already, a new shopper's connection is counted in the same round trip
// as its arrival; it counts all the same, so the shopper's next sockets stop
// at the cap, and a socket closed gives its place back.
func TestANewShoppersFirstSocketCountsUnderItsCap(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_MAX_CONNS_PER_SHOPPER": "2"})
	saleID := sys.createSale(t, map[string]any{"sku": "A-4", "name": "Arrive cap", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := shopperclient.New(sys.URL)
	first, _ := arrive(t, ctx, client, saleID) // the node follows the sale from here on
	expectMessage(t, ctx, first, "position")

	arrived, sess := arrive(t, ctx, client, saleID)
	if m := expectMessage(t, ctx, arrived, "position"); m.Position != 2 {
		t.Fatalf("the new shopper is at %d, want 2", m.Position)
	}
	second, err := client.Connect(ctx, saleID, sess)
	if err != nil {
		t.Fatalf("a second socket under a cap of 2: %v", err)
	}
	defer second.CloseNow()
	expectMessage(t, ctx, second, "welcome")
	if third, err := client.Connect(ctx, saleID, sess); err == nil {
		third.CloseNow()
		t.Fatal("a third socket was accepted under a cap of 2: the first was not counted")
	} else if code, _ := apiCode(err); code != "too_many_connections" {
		t.Fatalf("the third socket was refused with %v, want too_many_connections", err)
	}
	arrived.CloseNow()
	// Its place comes back once the node has seen the socket close.
	for {
		again, err := client.Connect(ctx, saleID, sess)
		if err == nil {
			again.CloseNow()
			break
		}
		if code, _ := apiCode(err); code != "too_many_connections" || ctx.Err() != nil {
			t.Fatalf("after the first socket closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // polling until the node has seen the close; the deadline is ctx's
	}
}

// TestAShopperHoldingAReservationWhoArrivesWithJoinIsToldItOnce: a socket
// opened with its session and join=1 asks once. The arrival's look-up tells
// it the reservation it holds; the join at open was answered with it again
// (a second token for one hold, which a client may check out twice), as a
// review of the once-per-tab rule found.
func TestAShopperHoldingAReservationWhoArrivesWithJoinIsToldItOnce(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "A-2", "name": "Arrive held", "stock": 5, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := shopperclient.New(sys.URL)

	first, sess := arrive(t, ctx, client, saleID)
	held := expectMessage(t, ctx, first, "admitted")
	first.CloseNow()

	back, err := client.Arrive(ctx, saleID, &sess)
	if err != nil {
		t.Fatal(err)
	}
	defer back.CloseNow()
	if m := expectMessage(t, ctx, back, "admitted"); m.ReservationID != held.ReservationID {
		t.Fatalf("back with reservation %s, want %s", m.ReservationID, held.ReservationID)
	}
	// The next answer is the time asked for now, not the reservation again.
	if err := back.Send(ctx, map[string]any{"type": "time", "client_time": 1}); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := back.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == "admitted" {
			t.Fatal("the reservation was told twice to one socket that asked once")
		}
		if m.Type == "time" {
			return
		}
	}
}
