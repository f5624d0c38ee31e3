package app_test

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/waitingroom"
)

// eventRedeemState is what a refused redeem of an event must leave as it
// was: the sale's counters (the products' p:<sku>:left and :sold among
// them), the queue and the orders, what each shopper bought, the sale's
// holds and reservations, the products' sold in Postgres, and the audit log with the shop
// keys' last use.
type eventRedeemState struct {
	sale     snapshot
	bought   map[string]string
	holds    map[string]string
	orders   string
	products string
	keys     shopKeyState
}

func (s *system) eventRedeemState(t *testing.T, saleID string) eventRedeemState {
	t.Helper()
	ctx := context.Background()
	k := waitingroom.Keys(saleID)
	st := eventRedeemState{sale: s.snapshot(t, saleID), keys: s.shopKeyState(t)}
	var err error
	if st.bought, err = s.Redis.HGetAll(ctx, k.Bought).Result(); err != nil {
		t.Fatal(err)
	}
	st.holds = map[string]string{}
	for _, key := range []string{k.Shoppers, k.Res} {
		fields, err := s.Redis.HGetAll(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		for f, v := range fields {
			st.holds[key+" "+f] = v
		}
	}
	var rows []string
	if err := s.DB.Select(&rows, `SELECT reservation_id || ' ' || sku || ' ' || status FROM orders WHERE sale_id = $1
		ORDER BY id`, saleID); err != nil {
		t.Fatal(err)
	}
	st.orders = strings.Join(rows, ", ")
	if err := s.DB.Select(&rows, `SELECT sku || ' ' || sold FROM sale_products WHERE sale_id = $1 ORDER BY position`,
		saleID); err != nil {
		t.Fatal(err)
	}
	st.products = strings.Join(rows, ", ")
	return st
}

// TestAnEventsRedeemPastAProductsLimitIsRefusedAndChangesNothing: a
// shopper who bought the one red tee its limit allows queues again (the
// event allows three orders) and the shop redeems its new hold as another
// red tee: 409 over_product_limit, again the same when the shop retries
// with the same key, and nothing changed anywhere. Its hold stands: the
// shop then sells it a blue tee.
func TestAnEventsRedeemPastAProductsLimitIsRefusedAndChangesNothing(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_OUTCOME": "never"})
	body := eventBody(0)
	body["checkout"], body["checkout_url"], body["per_customer_orders"] = "shop", "https://shop.example/checkout", 3
	saleID := sys.createSale(t, body)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	key := sys.createShopKey(t, "shop backend", "redeem")
	redeem := func(reservation, token, product, idem string) (int, redeemAnswer) {
		status, ans, _ := sys.shopPost(t, redeemPath(reservation), key.Key, idem,
			map[string]string{"sale_id": saleID, "token": token, "order_ref": "SO-" + idem, "product": product})
		return status, ans
	}

	admitted, conn := admitOne(t, ctx, sys, saleID)
	in := listen(conn)
	if status, ans := redeem(admitted.ReservationID, admitted.Token, "TEE-RED", "first"); status != http.StatusOK ||
		ans.Product != "TEE-RED" {
		t.Fatalf("the first red tee: %d %+v", status, ans)
	}
	orderStatus(t, ctx, in, "paid") // its order is written: nothing more is on its way
	if err := conn.Join(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := in.next(ctx, "admitted")
	if err != nil || again.ReservationID == admitted.ReservationID {
		t.Fatalf("admitted again: %+v, %v; want a new hold", again, err)
	}

	before := sys.eventRedeemState(t, saleID)
	if len(before.bought) == 0 || before.sale.meta["p:TEE-RED:sold"] != "1" {
		t.Fatalf("before the refusal: bought %v, meta %v; want the red tee counted", before.bought, before.sale.meta)
	}
	for _, try := range []string{"the second red tee", "the same redeem again"} {
		if status, ans := redeem(again.ReservationID, again.Token, "TEE-RED", "second"); status != http.StatusConflict ||
			ans.Error.Code != "over_product_limit" {
			t.Errorf("%s: %d %q, want 409 over_product_limit", try, status, ans.Error.Code)
		}
	}
	after := sys.eventRedeemState(t, saleID)
	sys.assertUnchanged(t, saleID, before.sale, "a redeem past the product's limit")
	if !maps.Equal(before.bought, after.bought) || !maps.Equal(before.holds, after.holds) {
		t.Errorf("a refused redeem changed what was bought or held: %v %v -> %v %v", before.bought, before.holds,
			after.bought, after.holds)
	}
	if before.orders != after.orders || before.products != after.products || before.keys != after.keys {
		t.Errorf("a refused redeem changed Postgres: orders %q, products %q, keys %+v -> %q, %q, %+v",
			before.orders, before.products, before.keys, after.orders, after.products, after.keys)
	}

	if status, ans := redeem(again.ReservationID, again.Token, "TEE-BLUE", "third"); status != http.StatusOK ||
		ans.Product != "TEE-BLUE" {
		t.Fatalf("a blue tee on the hold that stood: %d %+v", status, ans)
	}
	orderStatus(t, ctx, in, "paid")
	if st := sys.eventRedeemState(t, saleID); st.products != "TEE-RED 1, TEE-BLUE 1, CAP 0" {
		t.Errorf("the products sold %s, want a red tee and a blue one", st.products)
	}
	sys.reconciled(t, ctx, saleID)
}
