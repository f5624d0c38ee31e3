package app_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// A new shopper's welcome and its place leave the gateway in one write, so
// they reach the client in one TCP segment, after the upgrade's answer:
// each write is a system call on both sides, and in a join storm they were a
// tenth of the gateway's CPU. Linux counts the segments a socket received.
func TestANewShoppersWelcomeAndPlaceArriveInOneSegment(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "SEG-1", "name": "Segments", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	dialed := make(chan *net.TCPConn, 1)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			dialed <- c.(*net.TCPConn)
		}
		return c, err
	}
	client := shopperclient.NewWithTransport(sys.URL, transport)

	// The node's first arrival into a sale reads the sale before its
	// welcome; the next ones arrive in one round trip. Both are told
	// together.
	for i, want := range []int64{1, 2} {
		conn, err := client.Arrive(ctx, saleID, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseNow()
		expectMessage(t, ctx, conn, "welcome")
		if m := expectMessage(t, ctx, conn, "position"); m.Position != want {
			t.Fatalf("arrival %d at position %d, want %d", i+1, m.Position, want)
		}
		if n := segmentsIn(t, <-dialed); n != 2 {
			t.Errorf("arrival %d: the client received %d segments, want 2 (the upgrade's answer, then the welcome and place together)", i+1, n)
		}
	}
}

// segmentsIn is how many segments carrying data the socket has received.
func segmentsIn(t *testing.T, c *net.TCPConn) uint32 {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var info *unix.TCPInfo
	var infoErr error
	if err := raw.Control(func(fd uintptr) { info, infoErr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) }); err != nil {
		t.Fatal(err)
	}
	if infoErr != nil {
		t.Fatal(infoErr)
	}
	return info.Data_segs_in
}
