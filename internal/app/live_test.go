package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/server"
)

type liveStats struct {
	Type  string `json:"type"`
	Sales []struct {
		ID     string `json:"id"`
		State  string `json:"state"`
		Orders int64  `json:"orders"`
		Stock  struct{ Total, Left, Held, Sold int64 }
		Funnel struct {
			Joined, Admitted int64
			CheckedOut       int64 `json:"checked_out"`
			Paid             int64
		}
	} `json:"sales"`
	Nodes []struct {
		ID          string
		Connections int64
	} `json:"nodes"`
}

func dialLive(t *testing.T, ctx context.Context, sys *system, token string) *websocket.Conn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(sys.URL, "http") + "/v1/admin/live"
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		Subprotocols: []string{server.AdminSubprotocol, server.AdminTokenProtocol(token)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

// TestTheDashboardIsPushedCountsThatMatchPostgres buys two units and reads
// the dashboard's live feed until it shows them: its order count must then
// equal the rows in Postgres, and a wrong token is refused with 4001.
func TestTheDashboardIsPushedCountsThatMatchPostgres(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "D-1", "name": "Dashboard", "stock": 5, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if code := closeCode(ctx, dialLive(t, ctx, sys, "wrong")); code != 4001 {
		t.Errorf("a wrong token: close %d, want 4001", code)
	}
	for range 2 {
		orderStatus(t, ctx, buyOne(t, ctx, sys, saleID), "paid")
	}
	ws := dialLive(t, ctx, sys, sys.AdminToken)
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var s liveStats
		if err := json.Unmarshal(data, &s); err != nil || s.Type != "stats" {
			t.Fatalf("push %s: %v", data, err)
		}
		if len(s.Sales) != 1 || s.Sales[0].ID != saleID {
			t.Fatalf("push lists sales %+v, want %s", s.Sales, saleID)
		}
		sale := s.Sales[0]
		if sale.Funnel.Paid < 2 {
			continue // the last payment is on its way
		}
		rows := sys.countOrders(t, saleID)
		if sale.Orders != int64(rows) || sale.Stock.Sold != 2 || sale.Funnel.Admitted != 2 || sale.Funnel.Joined != 2 {
			t.Errorf("dashboard: %+v; postgres has %d orders", sale, rows)
		}
		if len(s.Nodes) != 1 || s.Nodes[0].Connections != 2 {
			t.Errorf("nodes %+v, want one node with the two shoppers", s.Nodes)
		}
		return
	}
}
