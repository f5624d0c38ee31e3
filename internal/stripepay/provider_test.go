package stripepay_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/stripepay"
	"github.com/foyerhq/foyer/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// sent is one request Foyer sent to Stripe, and how stripe-mock answered.
type sent struct {
	method, path   string
	form           url.Values // the form body, or the query of a GET
	idempotencyKey string
	status         int // stripe-mock's answer: 200 means it took the request for a valid one
}

// recorder sits in front of stripe-mock and keeps what crosses it.
type recorder struct {
	mu   sync.Mutex
	sent []sent
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	s := sent{method: req.Method, path: req.URL.Path, idempotencyKey: req.Header.Get("Idempotency-Key"), form: req.URL.Query()}
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		if len(body) > 0 {
			if s.form, err = url.ParseQuery(string(body)); err != nil {
				return nil, err
			}
		}
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	s.status = resp.StatusCode
	r.mu.Lock()
	r.sent = append(r.sent, s)
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) all() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sent(nil), r.sent...)
}

// newProvider returns a provider on a stripe-mock of its own, and what it sends.
func newProvider(t *testing.T) (*stripepay.Provider, *recorder) {
	t.Helper()
	mock := testenv.NewStripeMock(t)
	rec := &recorder{}
	p, err := stripepay.New(stripepay.Config{SecretKey: "sk_test_foyer", APIBase: mock.URL(),
		HTTPClient: &http.Client{Transport: rec}})
	if err != nil {
		t.Fatal(err)
	}
	return p, rec
}

// The charge answers the PaymentIntent's id (the order's payment_ref) and
// its client secret, which the shopper's page pays with: stripe-mock
// answers both, as Stripe does.
func TestChargeCreatesAPaymentIntentForTheOrderKeyedByItsReservation(t *testing.T) {
	p, rec := newProvider(t)
	charge := checkout.Charge{OrderID: 42, SaleID: "s_drop", ReservationID: "r_abc", AmountCents: 2 * 1500,
		Currency: "EUR", TransactionID: "txn_9"}
	payment, err := p.Charge(t.Context(), charge)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(payment.Ref, "pi_") {
		t.Errorf("Charge returned ref %q, want the PaymentIntent's id (pi_...)", payment.Ref)
	}
	if !strings.HasPrefix(payment.ClientSecret, "pi_") || !strings.Contains(payment.ClientSecret, "_secret_") {
		t.Errorf("Charge returned client secret %q, want the PaymentIntent's (pi_..._secret_...)", payment.ClientSecret)
	}
	got := rec.all()
	if len(got) != 1 {
		t.Fatalf("sent %d requests, want 1: %+v", len(got), got)
	}
	s := got[0]
	if s.method != http.MethodPost || s.path != "/v1/payment_intents" || s.status != http.StatusOK {
		t.Fatalf("sent %s %s, answered %d; want POST /v1/payment_intents answered 200", s.method, s.path, s.status)
	}
	want := map[string]string{"amount": "3000", "currency": "eur", "metadata[order_id]": "42",
		"metadata[sale_id]": "s_drop", "metadata[reservation_id]": "r_abc", "metadata[transaction_id]": "txn_9",
		"payment_method_types[0]": "card"}
	for k, v := range want {
		if s.form.Get(k) != v {
			t.Errorf("%s = %q, want %q (form %v)", k, s.form.Get(k), v, s.form)
		}
	}
	if s.idempotencyKey != "r_abc" {
		t.Errorf("Idempotency-Key = %q, want the reservation id r_abc", s.idempotencyKey)
	}
}

func TestARedeliveredOrderIsChargedWithTheSameIdempotencyKeyAndBody(t *testing.T) {
	p, rec := newProvider(t)
	charge := checkout.Charge{OrderID: 7, SaleID: "s_drop", ReservationID: "r_same", AmountCents: 999, Currency: "usd"}
	for range 2 {
		if _, err := p.Charge(t.Context(), charge); err != nil {
			t.Fatal(err)
		}
	}
	got := rec.all()
	if len(got) != 2 || got[0].idempotencyKey != "r_same" || got[1].idempotencyKey != "r_same" ||
		got[0].form.Encode() != got[1].form.Encode() {
		t.Fatalf("two charges of one order sent %+v; want the same body under the same key, which Stripe answers once", got)
	}
	if got[0].form.Has("metadata[transaction_id]") {
		t.Errorf("a charge without a transaction id sent one: %v", got[0].form)
	}
}

func TestStatusRetrievesThePaymentIntentByItsRef(t *testing.T) {
	p, rec := newProvider(t)
	status, err := p.Status(t.Context(), 42, "pi_3FoyerRef")
	if err != nil {
		t.Fatal(err)
	}
	got := rec.all()
	if len(got) != 1 || got[0].method != http.MethodGet || got[0].path != "/v1/payment_intents/pi_3FoyerRef" ||
		got[0].status != http.StatusOK {
		t.Fatalf("sent %+v; want one GET of the PaymentIntent by its id, answered 200 (no search, which lags)", got)
	}
	if status != checkout.PaymentPending {
		t.Errorf("status = %q, want %q (stripe-mock's fixture is requires_payment_method)", status, checkout.PaymentPending)
	}
}

// An order without a ref (charged before refs were kept) is searched for.
func TestStatusFindsThePaymentByTheOrderInItsMetadata(t *testing.T) {
	p, rec := newProvider(t)
	status, err := p.Status(t.Context(), 42, "")
	if err != nil {
		t.Fatal(err)
	}
	got := rec.all()
	if len(got) != 1 || got[0].method != http.MethodGet || got[0].path != "/v1/payment_intents/search" ||
		got[0].form.Get("query") != "metadata['order_id']:'42'" || got[0].status != http.StatusOK {
		t.Fatalf("sent %+v; want one search by metadata order_id, answered 200", got)
	}
	// stripe-mock answers its fixture, a PaymentIntent waiting for a
	// payment method: pending, which the settler cancels on timeout.
	if status != checkout.PaymentPending {
		t.Errorf("status = %q, want %q (stripe-mock's fixture is requires_payment_method)", status, checkout.PaymentPending)
	}
}

func TestRefundOfAnOrderNotPaidAtStripeRefundsNothing(t *testing.T) {
	p, rec := newProvider(t)
	if err := p.Refund(t.Context(), 42); !errors.Is(err, stripepay.ErrNoPayment) {
		t.Fatalf("Refund = %v, want ErrNoPayment (stripe-mock's payment did not succeed)", err)
	}
	for _, s := range rec.all() {
		if s.path == "/v1/refunds" {
			t.Fatalf("sent a refund for an unpaid order: %+v", s)
		}
	}
}

func TestRefundPaymentRefundsThePaymentIntentOnce(t *testing.T) {
	p, rec := newProvider(t)
	if err := p.RefundPayment(t.Context(), "pi_late", 42); err != nil {
		t.Fatal(err)
	}
	got := rec.all()
	if len(got) != 1 || got[0].path != "/v1/refunds" || got[0].form.Get("payment_intent") != "pi_late" ||
		got[0].idempotencyKey != "refund-pi_late" || got[0].form.Get("metadata[order_id]") != "42" ||
		got[0].status != http.StatusOK {
		t.Fatalf("sent %+v; want POST /v1/refunds for pi_late keyed refund-pi_late, answered 200", got)
	}
}

func TestAChargeStripeRefusesAsInvalidIsNotRetried(t *testing.T) {
	p, _ := newProvider(t)
	// stripe-mock checks requests against Stripe's spec, which wants a
	// currency: without one the request is invalid (400), for good.
	_, err := p.Charge(t.Context(), checkout.Charge{OrderID: 7, SaleID: "s", ReservationID: "r_bad", AmountCents: 100})
	if !errors.Is(err, checkout.ErrChargeRefused) {
		t.Fatalf("Charge = %v, want ErrChargeRefused", err)
	}
}
