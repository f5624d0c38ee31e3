package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/waitingroom"
)

// buyOne admits one shopper and checks out; it returns the shopper's inbox.
func buyOne(t *testing.T, ctx context.Context, sys *system, saleID string) *inbox {
	t.Helper()
	conn, _ := connectNew(t, ctx, sys.URL, saleID)
	in := listen(conn)
	joinAndBuy(t, ctx, sys, saleID, conn, in)
	return in
}

// joinAndBuy has a connected tab, whose inbox is in, wait for its welcome,
// join, and check out the reservation it is admitted to, which it returns.
func joinAndBuy(t *testing.T, ctx context.Context, sys *system, saleID string, conn *shopperclient.Conn, in *inbox) shopperclient.Message {
	t.Helper()
	admitted := joinTillAdmitted(t, ctx, conn, in)
	sys.checkout(t, saleID, admitted.Token)
	return admitted
}

// joinTillAdmitted has a connected tab, whose inbox is in, wait for its
// welcome, join, and wait for its admission, which it returns.
func joinTillAdmitted(t *testing.T, ctx context.Context, conn *shopperclient.Conn, in *inbox) shopperclient.Message {
	t.Helper()
	if _, err := in.wait(ctx, "welcome"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Join(ctx); err != nil {
		t.Fatal(err)
	}
	admitted, err := in.wait(ctx, "admitted")
	if err != nil {
		t.Fatal(err)
	}
	return admitted
}

// checkout checks out a reservation token and expects it to succeed.
func (s *system) checkout(t *testing.T, saleID, token string) {
	t.Helper()
	if status := s.call(t, http.MethodPost, "/v1/sales/"+saleID+"/checkout", "", map[string]string{"token": token}, nil); status != http.StatusOK {
		t.Fatalf("checkout: %d", status)
	}
}

// orderStatus waits for the order push with the given status.
func orderStatus(t *testing.T, ctx context.Context, in *inbox, want string) {
	t.Helper()
	for {
		m, err := in.next(ctx, "order")
		if err != nil {
			t.Fatalf("waiting for order %s: %v", want, err)
		}
		if m.Status == want {
			return
		}
	}
}

func (s *system) stockAfter(t *testing.T, saleID string) (redisAvailable, redisSold, pgSold int, status string) {
	t.Helper()
	k := waitingroom.Keys(saleID)
	redisAvailable, _ = s.Redis.HGet(context.Background(), k.Meta, "available").Int()
	redisSold, _ = s.Redis.HGet(context.Background(), k.Meta, "sold").Int()
	s.DB.Get(&pgSold, `SELECT sold FROM sales WHERE id = $1`, saleID)
	s.DB.Get(&status, `SELECT status FROM orders WHERE sale_id = $1`, saleID)
	return
}

func TestAPaidOrderIsPaid(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "$-1", "name": "Paid", "stock": 1, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := buyOne(t, ctx, sys, saleID)
	orderStatus(t, ctx, in, "pending_payment")
	orderStatus(t, ctx, in, "paid")
	if available, sold, pgSold, status := sys.stockAfter(t, saleID); available != 0 || sold != 1 || pgSold != 1 || status != "paid" {
		t.Errorf("after payment: available %d, sold %d, postgres sold %d, order %s", available, sold, pgSold, status)
	}
}

// TestAFailedPaymentCancelsTheOrderAndTheNextShopperGetsTheUnit sells the
// only unit to a shopper whose payment fails: the unit goes back, and the
// shopper waiting behind is admitted to it.
func TestAFailedPaymentCancelsTheOrderAndTheNextShopperGetsTheUnit(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_OUTCOME": "fail"})
	saleID := sys.createSale(t, map[string]any{"sku": "$-2", "name": "Failed", "stock": 1, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _ := connectNew(t, ctx, sys.URL, saleID)
	first := listen(conn)
	first.wait(ctx, "welcome")
	conn.Join(ctx)
	admitted, err := first.wait(ctx, "admitted")
	if err != nil {
		t.Fatal(err)
	}
	// The next shopper queues while the unit is held, hears it sold out...
	next, _ := connectNew(t, ctx, sys.URL, saleID)
	nextIn := listen(next)
	nextIn.wait(ctx, "welcome")
	next.Join(ctx)
	nextIn.wait(ctx, "position")
	sys.checkout(t, saleID, admitted.Token)
	if _, err := nextIn.wait(ctx, "sold_out"); err != nil {
		t.Fatal(err)
	}
	// ...and gets the unit when the payment fails.
	orderStatus(t, ctx, first, "cancelled")
	if _, err := nextIn.wait(ctx, "admitted"); err != nil {
		t.Fatalf("the next shopper was not admitted to the returned unit: %v", err)
	}
	var status string
	sys.DB.Get(&status, `SELECT status FROM orders WHERE sale_id = $1 ORDER BY id LIMIT 1`, saleID)
	var pgSold int
	sys.DB.Get(&pgSold, `SELECT sold FROM sales WHERE id = $1`, saleID)
	if status != "cancelled" || pgSold != 0 {
		t.Errorf("order %s, postgres sold %d; want cancelled and 0", status, pgSold)
	}
}

func TestAPaymentThatNeverComesTimesOutAndReturnsTheStock(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_OUTCOME": "never", "FOYER_PAYMENT_TIMEOUT": "1s"})
	saleID := sys.createSale(t, map[string]any{"sku": "$-3", "name": "Timeout", "stock": 1, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A stalled sale admits nobody by itself: raise the rate for one shopper.
	sys.admin(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/rate", map[string]any{"outflow_per_second": 100}, http.StatusOK)
	in := buyOne(t, ctx, sys, saleID)
	orderStatus(t, ctx, in, "cancelled")
	if available, sold, pgSold, status := sys.stockAfter(t, saleID); available != 1 || sold != 0 || pgSold != 0 || status != "cancelled" {
		t.Errorf("after the timeout: available %d, sold %d, postgres sold %d, order %s", available, sold, pgSold, status)
	}
}

func TestTheWebhookRefusesABadSignatureAndChangesNothing(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_OUTCOME": "never"})
	saleID := sys.createSale(t, map[string]any{"sku": "$-4", "name": "Forged", "stock": 1, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := buyOne(t, ctx, sys, saleID)
	orderStatus(t, ctx, in, "pending_payment")
	var orderID int64
	var reservationID string
	sys.DB.QueryRow(`SELECT id, reservation_id FROM orders WHERE sale_id = $1`, saleID).Scan(&orderID, &reservationID)
	body, _ := json.Marshal(orderstream.PaymentResult{OrderID: orderID, SaleID: saleID, ReservationID: reservationID, Status: "failed"})
	for name, signature := range map[string]string{
		"no signature":   "",
		"another secret": checkout.Sign([]byte("not-the-secret"), body, time.Now()),
		"another body's": checkout.Sign([]byte(testWebhookSecret), append(body, ' '), time.Now()),
	} {
		req, _ := http.NewRequest(http.MethodPost, sys.URL+"/v1/payments/webhook", bytes.NewReader(body))
		req.Header.Set(checkout.SignatureHeader, signature)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Error struct{ Code string } }
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || out.Error.Code != "webhook_signature_invalid" {
			t.Errorf("%s: %d %q, want 401 webhook_signature_invalid", name, resp.StatusCode, out.Error.Code)
		}
	}
	// A correctly signed one goes through, which shows the refusals above
	// were for their signatures.
	req, _ := http.NewRequest(http.MethodPost, sys.URL+"/v1/payments/webhook", bytes.NewReader(body))
	req.Header.Set(checkout.SignatureHeader, checkout.Sign([]byte(testWebhookSecret), body, time.Now()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("a signed webhook: %d, want 202", resp.StatusCode)
	}
	orderStatus(t, ctx, in, "cancelled")
}
