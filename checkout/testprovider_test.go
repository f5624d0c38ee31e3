package checkout_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
)

// Two workers each have their own provider. The sweeper of one asks its
// provider about an order the other charged (and whose webhook the other is
// still retrying): it says paid, as the one that charged it does. It used to
// say unknown, and the order was cancelled though paid.
func TestAnotherWorkersProviderSaysPaidForAnOrderTheFirstCharged(t *testing.T) {
	secret := []byte("webhook-secret")
	srv, _, _ := webhookServer(t, 1<<30, secret) // refuses every post: the first keeps retrying
	for _, outcome := range []struct{ configured, want string }{
		{"succeed", checkout.PaymentPaid}, {"fail", checkout.PaymentFailed}, {"never", checkout.PaymentPending},
	} {
		charging := &checkout.TestProvider{Outcome: outcome.configured, WebhookURL: srv.URL, Secret: secret,
			Delay: time.Millisecond, Log: quiet}
		asked := &checkout.TestProvider{Outcome: outcome.configured, WebhookURL: srv.URL, Secret: secret, Log: quiet}
		t.Cleanup(charging.Close)
		t.Cleanup(asked.Close)
		if _, err := charging.Charge(context.Background(), checkout.Charge{OrderID: 41, SaleID: "s_1", ReservationID: "r_1"}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []*checkout.TestProvider{charging, asked} {
			if status, err := p.Status(context.Background(), 41, ""); err != nil || status != outcome.want {
				t.Errorf("outcome %s: status %q, %v; want %s from either worker's provider",
					outcome.configured, status, err, outcome.want)
			}
		}
	}
}

// A webhook still waiting for its delay when the provider closes is sent
// once before Close returns: its charge was acknowledged and will not come
// again. It used to be dropped.
func TestClosingTheTestProviderSendsAWebhookNotYetSentOnce(t *testing.T) {
	secret := []byte("webhook-secret")
	srv, posts, accepted := webhookServer(t, 0, secret)
	p := &checkout.TestProvider{Outcome: "succeed", WebhookURL: srv.URL, Secret: secret, Delay: time.Hour, Log: quiet}
	if _, err := p.Charge(context.Background(), checkout.Charge{OrderID: 5, SaleID: "s_1", ReservationID: "r_5"}); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if n := posts.Load(); n != 1 {
		t.Fatalf("%d posts at Close, want 1", n)
	}
	if res := <-accepted; res.OrderID != 5 || res.Status != checkout.PaymentPaid {
		t.Errorf("accepted %+v, want order 5 paid", res)
	}
}

// The provider remembers an order only while its webhook is being sent:
// after many orders are paid and their webhooks accepted, it holds none. It
// used to keep every order it ever charged.
func TestTheTestProviderForgetsAnOrderOnceItsWebhookIsAccepted(t *testing.T) {
	const orders = 200
	secret := []byte("s")
	srv, _, accepted := webhookServer(t, 0, secret)
	p := &checkout.TestProvider{Outcome: "succeed", WebhookURL: srv.URL, Secret: secret, Delay: time.Millisecond, Log: quiet}
	t.Cleanup(p.Close)
	for i := range orders {
		if _, err := p.Charge(context.Background(), checkout.Charge{OrderID: int64(i + 1), SaleID: "s_1", ReservationID: "r"}); err != nil {
			t.Fatal(err)
		}
	}
	for range orders {
		select {
		case <-accepted:
		case <-time.After(20 * time.Second):
			t.Fatal("not every webhook accepted within 20s")
		}
	}
	for p.Delivering() > 0 && deliveries() > 0 { // the last deliveries are ending
		runtime.Gosched()
	}
	if n := p.Delivering(); n != 0 {
		t.Errorf("the provider holds %d orders after all %d were delivered, want 0", n, orders)
	}
}
