package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// runShopper runs a Shopper until the test ends, and returns where Run's
// error goes should it end sooner.
func runShopper(t *testing.T, ctx context.Context, sh *shopperclient.Shopper) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- sh.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range sh.Messages() { // closed once Run has returned
		}
	})
	return errc
}

// awaitMessage waits for the shopper's next message of a type, skipping others.
func awaitMessage(t *testing.T, ctx context.Context, sh *shopperclient.Shopper, typ string) shopperclient.Message {
	t.Helper()
	for {
		select {
		case m, ok := <-sh.Messages():
			if !ok {
				t.Fatalf("the shopper stopped while waiting for %s", typ)
			}
			if m.Type == typ {
				return m
			}
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", typ, ctx.Err())
		}
	}
}

// awaitPosition waits for a position push equal to want.
func awaitPosition(t *testing.T, ctx context.Context, sh *shopperclient.Shopper, want int64) {
	t.Helper()
	for {
		m := awaitMessage(t, ctx, sh, "position")
		if m.Position == want {
			return
		}
		if m.Position < want {
			t.Fatalf("position %d, below the %d expected", m.Position, want)
		}
	}
}

func TestAShopperWhoseNodeStopsMovesToAnotherAndIsShownTheSamePlace(t *testing.T) {
	sys := startNodes(t, 1, nil)
	extra := sys.startGateway(t, "node-extra")
	saleID := sys.createSale(t, map[string]any{"sku": "SH-1", "name": "Moving", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Someone ahead, so that the place kept is not merely the first one.
	ahead, aheadIn := newShopper(t, ctx, sys.URL).connect(t, ctx, sys.URL, saleID)
	ahead.Join(ctx)
	waitPosition(t, ctx, aheadIn, 1)

	// The first URL is the extra node's: that is where the shopper connects.
	sh := shopperclient.NewShopper([]string{extra.URL, sys.URL}, saleID)
	errc := runShopper(t, ctx, sh)
	if err := sh.Join(ctx); err != nil {
		t.Fatal(err)
	}
	awaitMessage(t, ctx, sh, "welcome")
	awaitPosition(t, ctx, sh, 2)
	shopperID := sh.Session().ShopperID

	// Stopping drains the node: its shoppers are closed with 1001 and go
	// elsewhere. The next welcome can only come from the other node.
	extra.Stop()
	awaitMessage(t, ctx, sh, "welcome")
	awaitPosition(t, ctx, sh, 2)
	if got := sh.Session().ShopperID; got != shopperID {
		t.Errorf("the shopper came back as %s, not %s", got, shopperID)
	}
	select {
	case err := <-errc:
		t.Fatalf("Run ended: %v", err)
	default:
	}
}

func TestAShopperOnTheServersMachineFindsTheClocksAgreeWithin50ms(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "SH-2", "name": "Clock", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sh := shopperclient.NewShopper([]string{sys.URL}, saleID)
	runShopper(t, ctx, sh)
	for range 5 { // the answers to the five time requests of the clock sync
		awaitMessage(t, ctx, sh, "time")
	}
	if off := sh.Offset(); off.Abs() > 50*time.Millisecond {
		t.Errorf("clock offset %v to a server on the same machine", off)
	}
	if skew := time.Until(sh.ServerNow()).Abs(); skew > 50*time.Millisecond {
		t.Errorf("ServerNow is %v off our own clock", skew)
	}
}

func TestAShopperOfAnUnknownSaleStopsWithErrSaleNotFound(t *testing.T) {
	sys := startSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sh := shopperclient.NewShopper([]string{sys.URL}, "s_nosuchsale")
	if err := sh.Run(ctx); !errors.Is(err, shopperclient.ErrSaleNotFound) {
		t.Fatalf("Run ended with %v, want ErrSaleNotFound", err)
	}
	m, ok := <-sh.Messages()
	if !ok || m.Type != "error" || m.Code != "sale_not_found" {
		t.Errorf("the shopper was told %s, want the server's sale_not_found error", m.Raw)
	}
}
