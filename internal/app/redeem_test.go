package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/waitingroom"
)

// redeemAnswer is what POST /v1/reservations/{id}/redeem and /release answer.
type redeemAnswer struct {
	ReservationID string `json:"reservation_id"`
	SaleID        string `json:"sale_id"`
	ShopperID     string `json:"shopper_id"`
	OrderRef      string `json:"order_ref"`
	Quantity      int    `json:"quantity"`
	Status        string `json:"status"`
	Replayed      bool   `json:"replayed"`
	Released      bool   `json:"released"`
	Product       string `json:"product"`
	Error         struct{ Code, Message string }
}

// shopPost sends a shop's server-to-server request: key (empty: none),
// Idempotency-Key idem (empty: none) and a body, JSON unless it is a string.
func (s *system) shopPost(t *testing.T, path, key, idem string, body any) (int, redeemAnswer, http.Header) {
	t.Helper()
	raw, ok := body.(string)
	if !ok {
		b, _ := json.Marshal(body)
		raw = string(b)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	var out redeemAnswer
	if err := json.Unmarshal(got, &out); err != nil {
		t.Fatalf("POST %s: decode %q: %v", path, got, err)
	}
	return resp.StatusCode, out, resp.Header
}

func redeemPath(reservation string) string  { return "/v1/reservations/" + reservation + "/redeem" }
func releasePath(reservation string) string { return "/v1/reservations/" + reservation + "/release" }

func redeemBody(saleID, token, ref string) map[string]string {
	return map[string]string{"sale_id": saleID, "token": token, "order_ref": ref}
}

// shopSale is a sale whose checkout is the shop's.
func shopSale(t *testing.T, sys *system, sku string, stock int, extra map[string]any) string {
	t.Helper()
	body := map[string]any{"sku": sku, "name": "Shop checkout", "stock": stock, "outflow_per_second": 100,
		"checkout": "shop", "checkout_url": "https://shop.example/checkout"}
	maps.Copy(body, extra)
	return sys.createSale(t, body)
}

// customerAdmitted signs a customer in with the shop's identity token,
// joins the sale and waits for its admission.
func customerAdmitted(t *testing.T, ctx context.Context, sys *system, saleID, customer string) (shopperclient.Message, *inbox, *shopperclient.Conn) {
	t.Helper()
	status, sess := sys.sessionFromIdentity(t, signHS256(t, customerClaims(customer)))
	if status != http.StatusCreated {
		t.Fatalf("session of %s: %d %s", customer, status, sess.Error.Code)
	}
	conn, err := shopperclient.New(sys.URL).Connect(ctx, saleID, shopperclient.Session{ShopperID: sess.ShopperID, Token: sess.Token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	in := listen(conn)
	return joinTillAdmitted(t, ctx, conn, in), in, conn
}

func metaOf(t *testing.T, sys *system, saleID string) map[string]string {
	t.Helper()
	m, err := sys.Redis.HGetAll(context.Background(), waitingroom.Keys(saleID).Meta).Result()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestARedeemSellsTheHeldUnitOnceAndTheOrderIsWrittenPaidWithTheShopsReferenceAndCustomer(t *testing.T) {
	settings := withIdentitySecret()
	settings["FOYER_PAYMENT_OUTCOME"] = "never" // paid can only come from the redeem
	sys := startNodes(t, 1, settings)
	saleID := shopSale(t, sys, "R-1", 3, map[string]any{"identity": "optional", "price_cents": 4200})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admitted, in, _ := customerAdmitted(t, ctx, sys, saleID, "cust-42")
	key := sys.createShopKey(t, "shop backend", "redeem")

	body := redeemBody(saleID, admitted.Token, "order-1001")
	uses := sys.count(t, `SELECT count(*) FROM admin_actions WHERE action = 'shop_key_used' AND detail->>'scope' = 'redeem'`)
	status, ans, _ := sys.shopPost(t, redeemPath(admitted.ReservationID), key.Key, "idem-1", body)
	if status != http.StatusOK || ans.Status != "redeemed" || ans.Replayed || ans.ReservationID != admitted.ReservationID ||
		ans.SaleID != saleID || ans.OrderRef != "order-1001" || ans.Quantity != 1 || !strings.HasPrefix(ans.ShopperID, "c_") {
		t.Fatalf("redeem: %d %+v; want 200 redeemed, not replayed, quantity 1, the customer's shopper", status, ans)
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions WHERE action = 'shop_key_used' AND detail->>'scope' = 'redeem'`); n != uses+1 {
		t.Errorf("the redeem was audited %d times, want once", n-uses)
	}
	orderStatus(t, ctx, in, "paid") // the worker wrote it paid, with no charge to wait for
	var row struct {
		Status, Ref, Customer string
	}
	if err := sys.DB.Get(&row, `SELECT status, shop_order_ref AS ref, customer_id AS customer FROM orders WHERE reservation_id = $1`,
		admitted.ReservationID); err != nil {
		t.Fatal(err)
	}
	if row.Status != "paid" || row.Ref != "order-1001" || row.Customer != "cust-42" {
		t.Errorf("order row %+v, want paid, order-1001, cust-42", row)
	}
	if m := metaOf(t, sys, saleID); m["held"] != "0" || m["sold"] != "1" || m["available"] != "2" {
		t.Errorf("after a redeem held %s, sold %s, available %s; want 0, 1, 2", m["held"], m["sold"], m["available"])
	}

	// The same request again is the same answer, replayed; nothing more.
	status, again, hdr := sys.shopPost(t, redeemPath(admitted.ReservationID), key.Key, "idem-1", body)
	if status != http.StatusOK || !again.Replayed || again.ReservationID != ans.ReservationID || hdr.Get("Idempotent-Replayed") != "true" {
		t.Errorf("the same redeem again: %d %+v, want 200 replayed", status, again)
	}
	// Its stored answer lost, confirm.lua still knows it for the same key.
	if err := sys.Redis.Del(ctx, checkout.AnswerKey(saleID, "k_"+key.ID, "idem-1")).Err(); err != nil {
		t.Fatal(err)
	}
	if status, again, _ := sys.shopPost(t, redeemPath(admitted.ReservationID), key.Key, "idem-1", body); status != http.StatusOK || !again.Replayed {
		t.Errorf("the same redeem with its stored answer lost: %d %+v, want 200 replayed", status, again)
	}
	// The key with another request, or the token with another key: refused.
	if status, r, _ := sys.shopPost(t, redeemPath(admitted.ReservationID), key.Key, "idem-1",
		redeemBody(saleID, admitted.Token, "order-other")); status != http.StatusUnprocessableEntity || r.Error.Code != "idempotency_key_reused" {
		t.Errorf("the key with another order_ref: %d %q, want 422 idempotency_key_reused", status, r.Error.Code)
	}
	if status, r, _ := sys.shopPost(t, redeemPath(admitted.ReservationID), key.Key, "idem-2", body); status != http.StatusConflict || r.Error.Code != "token_reused" {
		t.Errorf("a used token with a fresh key: %d %q, want 409 token_reused", status, r.Error.Code)
	}
	if n := sys.countOrders(t, saleID); n != 1 {
		t.Errorf("%d order rows, want 1", n)
	}
	var page ordersPage
	if sys.call(t, http.MethodGet, "/v1/admin/sales/"+saleID+"/orders", sys.AdminToken, nil, &page); len(page.Orders) != 1 ||
		page.Orders[0].CustomerID != "cust-42" || page.Orders[0].ShopOrderRef == nil || *page.Orders[0].ShopOrderRef != "order-1001" {
		t.Errorf("the Orders API shows %+v, want the customer cust-42 and the shop's order-1001", page.Orders)
	}
	sys.reconciled(t, ctx, saleID)
}

func TestTwentyConcurrentRedeemsOfOneTokenSellItOnce(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_OUTCOME": "never"})
	saleID := shopSale(t, sys, "R-2", 2, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admitted, conn := admitOne(t, ctx, sys, saleID)
	in := listen(conn)
	key := sys.createShopKey(t, "shop backend", "redeem")
	codes := make([]string, 20)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() {
			status, ans, _ := sys.shopPost(t, redeemPath(admitted.ReservationID), key.Key, fmt.Sprintf("idem-%d", i),
				redeemBody(saleID, admitted.Token, fmt.Sprintf("order-%d", i)))
			codes[i] = fmt.Sprintf("%d %s", status, ans.Error.Code)
		})
	}
	wg.Wait()
	count := map[string]int{}
	for _, c := range codes {
		count[c]++
	}
	if count["200 "] != 1 || count["409 token_reused"] != 19 {
		t.Errorf("20 redeems of one token answered %v, want one 200 and 19 409 token_reused", count)
	}
	orderStatus(t, ctx, in, "paid")
	if n := sys.countOrders(t, saleID); n != 1 {
		t.Errorf("%d order rows, want 1", n)
	}
	if m := metaOf(t, sys, saleID); m["sold"] != "1" || m["held"] != "0" {
		t.Errorf("sold %s, held %s; want 1, 0", m["sold"], m["held"])
	}
}

func TestBadRedeemsAndReleasesAreRefusedEachWithItsCodeAndChangeNothing(t *testing.T) {
	sys := startSystem(t)
	saleID := shopSale(t, sys, "R-3", 3, nil)
	otherID := shopSale(t, sys, "R-4", 3, nil)
	foyerID := sys.createSale(t, map[string]any{"sku": "R-5", "name": "Foyer's checkout", "stock": 3, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admitted, _ := admitOne(t, ctx, sys, saleID)
	other, _ := admitOne(t, ctx, sys, otherID)
	foyer, _ := admitOne(t, ctx, sys, foyerID)
	redeemKey := sys.createShopKey(t, "shop backend", "redeem")
	ordersKey := sys.createShopKey(t, "back office", "orders")

	claims, err := checkout.NewTokens(mustRing(t, sys.Seed)).Verify(saleID, admitted.Token)
	if err != nil {
		t.Fatal(err)
	}
	res := waitingroom.Reservation{ID: admitted.ReservationID, Shopper: claims.Subject,
		AdmittedAtMs: time.Now().Add(-time.Hour).UnixMilli(), ExpiresAtMs: time.Now().Add(-time.Minute).UnixMilli()}
	expired, _ := checkout.NewTokens(mustRing(t, sys.Seed)).Issue(saleID, res)
	res.ExpiresAtMs = time.Now().Add(time.Hour).UnixMilli()
	forged, _ := checkout.NewTokens(mustRing(t, keyring.NewSeed())).Issue(saleID, res)

	good := redeemBody(saleID, admitted.Token, "order-1")
	with := func(field, value string) map[string]string {
		b := maps.Clone(good)
		b[field] = value
		return b
	}
	id := admitted.ReservationID
	cases := []struct {
		name, path, key, idem string
		body                  any
		status                int
		code                  string
	}{
		{"no shop key", redeemPath(id), "", "k1", good, 401, "shop_key_invalid"},
		{"a made-up shop key", redeemPath(id), "fk_0123456789abcdef_nope", "k1", good, 401, "shop_key_invalid"},
		{"a key without the redeem scope", redeemPath(id), ordersKey.Key, "k1", good, 403, "shop_key_scope"},
		{"a release with a key without the redeem scope", releasePath(id), ordersKey.Key, "", good, 403, "shop_key_scope"},
		{"no Idempotency-Key", redeemPath(id), redeemKey.Key, "", good, 400, "bad_request"},
		{"an Idempotency-Key of 129 characters", redeemPath(id), redeemKey.Key, strings.Repeat("k", 129), good, 400, "bad_request"},
		{"an Idempotency-Key that is not ASCII", redeemPath(id), redeemKey.Key, "clé", good, 400, "bad_request"},
		{"no order_ref", redeemPath(id), redeemKey.Key, "k1", with("order_ref", ""), 400, "bad_request"},
		{"an order_ref of 129 characters", redeemPath(id), redeemKey.Key, "k1", with("order_ref", strings.Repeat("o", 129)), 400, "bad_request"},
		{"an order_ref with a newline", redeemPath(id), redeemKey.Key, "k1", with("order_ref", "order\n1"), 400, "bad_request"},
		{"a body that is not JSON", redeemPath(id), redeemKey.Key, "k1", `{"sale_id":`, 400, "bad_request"},
		{"no token", redeemPath(id), redeemKey.Key, "k1", with("token", ""), 400, "bad_request"},
		{"a forged token", redeemPath(id), redeemKey.Key, "k1", with("token", forged), 401, "token_invalid"},
		{"a token whose hold has lapsed", redeemPath(id), redeemKey.Key, "k1", with("token", expired), 401, "token_expired"},
		{"another sale's token", redeemPath(other.ReservationID), redeemKey.Key, "k1", with("token", other.Token), 403, "token_wrong_sale"},
		{"a path naming another reservation", redeemPath(other.ReservationID), redeemKey.Key, "k1", good, 422, "reservation_mismatch"},
		{"a release naming another reservation", releasePath("r_NOPE_1"), redeemKey.Key, "", good, 422, "reservation_mismatch"},
		{"a sale that does not exist", redeemPath(id), redeemKey.Key, "k1", with("sale_id", "s_nosuchsale"), 404, "sale_not_found"},
		{"a sale whose checkout is Foyer's", redeemPath(foyer.ReservationID), redeemKey.Key, "k1",
			redeemBody(foyerID, foyer.Token, "order-1"), 409, "checkout_not_shop"},
	}
	sales := []string{saleID, otherID, foyerID}
	before := map[string]snapshot{}
	for _, s := range sales {
		before[s] = sys.snapshot(t, s)
	}
	for _, tc := range cases {
		keys := sys.shopKeyState(t)
		status, ans, _ := sys.shopPost(t, tc.path, tc.key, tc.idem, tc.body)
		if status != tc.status || ans.Error.Code != tc.code {
			t.Errorf("%s: %d %q, want %d %q", tc.name, status, ans.Error.Code, tc.status, tc.code)
		}
		// Refused, with a good key or not: no audit row, no last use.
		if after := sys.shopKeyState(t); after != keys {
			t.Errorf("%s: recorded a use of a refused request (%+v -> %+v)", tc.name, keys, after)
		}
	}
	for _, s := range sales {
		sys.assertUnchanged(t, s, before[s], "bad redeems")
	}
	// Only a request that verified may claim an idempotency key: none of
	// the bad ones stored an answer but the refused Foyer sale's redeem,
	// which is an answer to a good request.
	for _, s := range []string{saleID, otherID} {
		if idem, _ := sys.Redis.Keys(ctx, waitingroom.Keys(s).Beside("idem:*")).Result(); len(idem) != 0 {
			t.Errorf("bad redeems stored answers in sale %s: %v", s, idem)
		}
	}
	// The good request still goes through.
	if status, ans, _ := sys.shopPost(t, redeemPath(id), redeemKey.Key, "k1", good); status != http.StatusOK || ans.Status != "redeemed" {
		t.Errorf("the good redeem after the bad ones: %d %+v", status, ans)
	}
}

func TestAReleaseGivesTheUnitBackAtOnceAndReleasingTwiceAnswersTheSame(t *testing.T) {
	sys := startSystem(t)
	saleID := shopSale(t, sys, "R-6", 2, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	first, firstConn := admitOne(t, ctx, sys, saleID)
	firstIn := listen(firstConn)
	second, _ := admitOne(t, ctx, sys, saleID)
	waiting, _ := connectNew(t, ctx, sys.URL, saleID)
	waitingIn := listen(waiting)
	if err := waiting.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := waitingIn.wait(ctx, "position"); err != nil {
		t.Fatal(err)
	}
	key := sys.createShopKey(t, "shop backend", "redeem")
	body := map[string]string{"sale_id": saleID, "token": first.Token}

	status, ans, _ := sys.shopPost(t, releasePath(first.ReservationID), key.Key, "", body)
	if status != http.StatusOK || !ans.Released || ans.ReservationID != first.ReservationID {
		t.Fatalf("release: %d %+v, want 200 released", status, ans)
	}
	// The unit went back at once: the shopper waiting behind is let in,
	// and the released shopper's page hears its hold is gone.
	if _, err := waitingIn.wait(ctx, "admitted"); err != nil {
		t.Fatalf("the waiting shopper was not admitted after the release: %v", err)
	}
	if m, err := firstIn.wait(ctx, "expired"); err != nil || m.ReservationID != first.ReservationID {
		t.Errorf("the released shopper heard %+v, %v; want expired for its reservation", m, err)
	}
	if m := metaOf(t, sys, saleID); m["held"] != "2" || m["available"] != "0" || m["sold"] != "0" {
		t.Errorf("held %s, available %s, sold %s; want 2, 0, 0 (the unit released, then held by the next shopper)",
			m["held"], m["available"], m["sold"])
	}
	before := sys.snapshot(t, saleID)
	if status, again, _ := sys.shopPost(t, releasePath(first.ReservationID), key.Key, "", body); status != http.StatusOK || again != ans {
		t.Errorf("releasing twice: %d %+v, want the same 200 %+v", status, again, ans)
	}
	if status, r, _ := sys.shopPost(t, redeemPath(first.ReservationID), key.Key, "late",
		redeemBody(saleID, first.Token, "order-late")); status != http.StatusGone || r.Error.Code != "reservation_expired" {
		t.Errorf("redeeming a released reservation: %d %q, want 410 reservation_expired", status, r.Error.Code)
	}
	sys.assertUnchanged(t, saleID, before, "a second release and a late redeem")

	// The released shopper may queue again.
	if err := firstConn.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := firstIn.wait(ctx, "position"); err != nil {
		t.Errorf("the released shopper could not queue again: %v", err)
	}
	// A redeemed reservation cannot be released.
	if status, _, _ := sys.shopPost(t, redeemPath(second.ReservationID), key.Key, "r2",
		redeemBody(saleID, second.Token, "order-2")); status != http.StatusOK {
		t.Fatalf("redeem: %d", status)
	}
	if status, r, _ := sys.shopPost(t, releasePath(second.ReservationID), key.Key, "",
		map[string]string{"sale_id": saleID, "token": second.Token}); status != http.StatusConflict || r.Error.Code != "token_reused" {
		t.Errorf("releasing a redeemed reservation: %d %q, want 409 token_reused", status, r.Error.Code)
	}
}

func TestAPerCustomerLimitBoundsTheUnitsOfEveryOrderOfACustomerAcrossTheSale(t *testing.T) {
	settings := withIdentitySecret()
	settings["FOYER_PAYMENT_OUTCOME"] = "never"
	sys := startNodes(t, 1, settings)
	saleID := sys.createSale(t, map[string]any{"sku": "R-7", "name": "Limited", "stock": 10, "outflow_per_second": 100,
		"identity": "required", "per_shopper_limit": 3, "per_customer_units": 4, "per_customer_orders": 3})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	buy := func(token string, quantity int) (int, string) {
		var out struct{ Error struct{ Code string } }
		status := sys.call(t, http.MethodPost, "/v1/sales/"+saleID+"/checkout", "",
			map[string]any{"token": token, "quantity": quantity}, &out)
		return status, out.Error.Code
	}
	admitted, in, conn := customerAdmitted(t, ctx, sys, saleID, "cust-7")
	if status, code := buy(admitted.Token, 3); status != http.StatusOK {
		t.Fatalf("first order of 3: %d %s", status, code)
	}
	orderStatus(t, ctx, in, "pending_payment")
	// One unit and two orders to go: the customer queues again.
	if err := conn.Join(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := in.next(ctx, "admitted")
	if err != nil || again.ReservationID == admitted.ReservationID {
		t.Fatalf("the customer's second admission: %+v, %v; want a new reservation", again, err)
	}
	before := sys.snapshot(t, saleID)
	if status, code := buy(again.Token, 2); status != http.StatusUnprocessableEntity || code != "quantity_over_limit" {
		t.Errorf("a second order of 2 with 1 unit left to the customer: %d %q, want 422 quantity_over_limit", status, code)
	}
	sys.assertUnchanged(t, saleID, before, "an order over the per-customer limit")
	if status, code := buy(again.Token, 1); status != http.StatusOK {
		t.Fatalf("second order of 1: %d %s", status, code)
	}
	orderStatus(t, ctx, in, "pending_payment")
	k := waitingroom.Keys(saleID)
	bought, err := sys.Redis.HGetAll(ctx, k.Bought).Result()
	if err != nil {
		t.Fatal(err)
	}
	shopper := claimsOf(t, sys, saleID, again.Token).Subject
	if bought[shopper] != "4" || bought[shopper+":orders"] != "2" {
		t.Errorf("the customer's counts are %v, want 4 units in 2 orders", bought)
	}
	// Every unit bought: the customer is not let in again; a join gives
	// back its last order's reservation, as with one order per customer.
	if named := sys.Redis.HGet(ctx, k.Shoppers, shopper).Val(); named != again.ReservationID {
		t.Errorf("the customer's place names %q, want its last reservation %s", named, again.ReservationID)
	}
	if m := metaOf(t, sys, saleID); m["sold"] != "4" || m["available"] != "6" {
		t.Errorf("sold %s, available %s; want 4, 6", m["sold"], m["available"])
	}

	// The first order's payment fails: its 3 units no longer count against
	// the customer, and its refund leaves the place of the later order be.
	var orderID int64
	if err := sys.DB.Get(&orderID, `SELECT id FROM orders WHERE reservation_id = $1`, admitted.ReservationID); err != nil {
		t.Fatal(err)
	}
	failed := orderstream.PaymentResult{OrderID: orderID, SaleID: saleID, ReservationID: admitted.ReservationID,
		Status: checkout.PaymentFailed}
	if status, code := sys.postWebhook(t, failed, time.Now()); status != http.StatusOK && status != http.StatusAccepted {
		t.Fatalf("payment failed webhook: %d %s", status, code)
	}
	orderStatus(t, ctx, in, "cancelled")
	for sys.Redis.HGet(ctx, k.Bought, shopper).Val() != "1" {
		select {
		case <-ctx.Done():
			t.Fatalf("the cancelled order's units still count: %v", sys.Redis.HGetAll(ctx, k.Bought).Val())
		case <-time.After(20 * time.Millisecond): // the refund follows the cancellation's push
		}
	}
	if orders := sys.Redis.HGet(ctx, k.Bought, shopper+":orders").Val(); orders != "1" {
		t.Errorf("after the refund the customer has %s orders counted, want 1", orders)
	}
	if named := sys.Redis.HGet(ctx, k.Shoppers, shopper).Val(); named != again.ReservationID {
		t.Errorf("the refund of the first order took the place of the second: it names %q", named)
	}
}

func claimsOf(t *testing.T, sys *system, saleID, token string) *checkout.ReservationClaims {
	t.Helper()
	c, err := checkout.NewTokens(mustRing(t, sys.Seed)).Verify(saleID, token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRedeemsRacingForEveryHoldOfASaleNeverOversell(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_OUTCOME": "never"})
	const stock = 6
	saleID := shopSale(t, sys, "R-8", stock, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var holders []shopperclient.Message
	for range 4 {
		a, _ := admitOne(t, ctx, sys, saleID)
		holders = append(holders, a)
	}
	key := sys.createShopKey(t, "shop backend", "redeem")
	// Each hold is redeemed three times over at once, with three keys and
	// three order references, as three shop nodes retrying might: one of
	// them wins each hold.
	var wg sync.WaitGroup
	var mu sync.Mutex
	sold := 0
	for i, h := range holders {
		for j := range 3 {
			wg.Go(func() {
				status, _, _ := sys.shopPost(t, redeemPath(h.ReservationID), key.Key, fmt.Sprintf("k-%d-%d", i, j),
					redeemBody(saleID, h.Token, fmt.Sprintf("o-%d-%d", i, j)))
				if status == http.StatusOK {
					mu.Lock()
					sold++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	m := metaOf(t, sys, saleID)
	if sold != len(holders) || m["sold"] != fmt.Sprint(sold) || m["held"] != "0" ||
		m["available"] != fmt.Sprint(stock-sold) {
		t.Errorf("%d redeems answered; Redis says sold %s, held %s, available %s; want %d sold of %d",
			sold, m["sold"], m["held"], m["available"], len(holders), stock)
	}
	for sys.count(t, `SELECT count(*) FROM orders WHERE sale_id = $1`, saleID) < len(holders) {
		select {
		case <-ctx.Done():
			t.Fatal("the orders were never all written")
		case <-time.After(20 * time.Millisecond): // Postgres tells nobody; poll it
		}
	}
	if n := sys.count(t, `SELECT sold FROM sales WHERE id = $1`, saleID); n != sold {
		t.Errorf("Postgres sold %d, want %d", n, sold)
	}
}

// A shop sale's reservation token is in the shopper's browser (it rides in
// the checkout URL): Foyer's own checkout must not take it, or a shopper
// could skip the shop's payment and still get the unit.
func TestFoyersCheckoutRefusesAShopSalesTokenAndChangesNothing(t *testing.T) {
	sys := startSystem(t)
	saleID := shopSale(t, sys, "R-9", 3, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, _ := admitOne(t, ctx, sys, saleID)
	before := sys.snapshot(t, saleID)
	var out checkoutAnswerBody
	status := sys.call(t, http.MethodPost, "/v1/sales/"+saleID+"/checkout", "",
		map[string]any{"token": a.Token}, &out)
	if status != http.StatusConflict || out.Error.Code != "checkout_is_shop" {
		t.Errorf("Foyer's checkout of a shop sale's token: %d %q, want 409 checkout_is_shop", status, out.Error.Code)
	}
	sys.assertUnchanged(t, saleID, before, "a Foyer checkout of a shop sale")
	// The hold is still the shop's to redeem.
	key := sys.createShopKey(t, "shop backend", "redeem")
	if status, _, _ := sys.shopPost(t, redeemPath(a.ReservationID), key.Key, "k-1",
		redeemBody(saleID, a.Token, "o-1")); status != http.StatusOK {
		t.Errorf("the shop's redeem after the refused checkout: %d, want 200", status)
	}
}

// checkoutAnswerBody is what Foyer's checkout answers.
type checkoutAnswerBody struct {
	Quantity int `json:"quantity"`
	Error    struct{ Code string }
}
