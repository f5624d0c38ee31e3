package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/waitingroom"
)

// stalled is an outflow rate so low that nobody is admitted while a test
// runs: the queue stands still and only what the test does moves it.
const stalled = 0.001

// shopperOn is one shopper with a session, able to connect to any node.
type shopperOn struct {
	sess shopperclient.Session
}

func newShopper(t *testing.T, ctx context.Context, url string) shopperOn {
	t.Helper()
	sess, err := shopperclient.New(url).NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return shopperOn{sess: sess}
}

func (s shopperOn) connect(t *testing.T, ctx context.Context, url, saleID string) (*shopperclient.Conn, *inbox) {
	t.Helper()
	conn := s.dial(t, ctx, url, saleID)
	return conn, listen(conn)
}

// dial opens the shopper's WebSocket to a sale; it is closed when the test ends.
func (s shopperOn) dial(t *testing.T, ctx context.Context, url, saleID string) *shopperclient.Conn {
	t.Helper()
	conn, err := shopperclient.New(url).Connect(ctx, saleID, s.sess)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

// connectNew makes a new shopper and opens its WebSocket to a sale.
func connectNew(t *testing.T, ctx context.Context, url, saleID string) (*shopperclient.Conn, shopperclient.Session) {
	t.Helper()
	s := newShopper(t, ctx, url)
	return s.dial(t, ctx, url, saleID), s.sess
}

// waitPosition waits for a position push equal to want.
func waitPosition(t *testing.T, ctx context.Context, in *inbox, want int64) {
	t.Helper()
	for {
		m, err := in.next(ctx, "position")
		if err != nil {
			t.Fatalf("waiting for position %d: %v", want, err)
		}
		if m.Position == want {
			return
		}
		if m.Position < want {
			t.Fatalf("position %d, below the %d expected", m.Position, want)
		}
	}
}

func TestAReconnectWithinTheGracePeriodKeepsThePlaceOnAnotherNode(t *testing.T) {
	sys := startNodes(t, 2, map[string]string{"FOYER_GRACE_PERIOD": "30s"})
	saleID := sys.createSale(t, map[string]any{"sku": "G-1", "name": "Grace", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, b := newShopper(t, ctx, sys.URL), newShopper(t, ctx, sys.URL)
	aConn, aIn := a.connect(t, ctx, sys.URLs[0], saleID)
	aConn.Join(ctx)
	waitPosition(t, ctx, aIn, 1)
	bConn, bIn := b.connect(t, ctx, sys.URLs[0], saleID)
	bConn.Join(ctx)
	waitPosition(t, ctx, bIn, 2)

	aConn.CloseNow()
	_, again := a.connect(t, ctx, sys.URLs[1], saleID)
	// Restored without a join: the node finds the place and pushes it.
	waitPosition(t, ctx, again, 1)
	away, err := sys.Redis.ZScore(ctx, waitingroom.Keys(saleID).Away, a.sess.ShopperID).Result()
	if err == nil {
		t.Errorf("the shopper is back but still marked away since %v", away)
	}
}

func TestAShopperGoneLongerThanTheGracePeriodLosesThePlaceAndThoseBehindMoveUp(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_GRACE_PERIOD": "1s"})
	saleID := sys.createSale(t, map[string]any{"sku": "G-2", "name": "Gone", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, b := newShopper(t, ctx, sys.URL), newShopper(t, ctx, sys.URL)
	aConn, aIn := a.connect(t, ctx, sys.URL, saleID)
	aConn.Join(ctx)
	waitPosition(t, ctx, aIn, 1)
	bConn, bIn := b.connect(t, ctx, sys.URL, saleID)
	bConn.Join(ctx)
	waitPosition(t, ctx, bIn, 2)

	aConn.CloseNow()
	waitPosition(t, ctx, bIn, 1)
	// The place is gone: joining again puts a at the back.
	back, backIn := a.connect(t, ctx, sys.URL, saleID)
	if _, err := backIn.wait(ctx, "welcome"); err != nil {
		t.Fatal(err)
	}
	back.Join(ctx)
	waitPosition(t, ctx, backIn, 2)
}
