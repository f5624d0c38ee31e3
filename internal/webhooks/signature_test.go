package webhooks_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/webhooks"
)

func TestASignatureVerifiesOnlyForItsBodySecretAndTime(t *testing.T) {
	const secret = "whsec_test"
	body := []byte(`{"id":"evt_1","type":"order.paid"}`)
	at := time.Unix(1_800_000_000, 0)
	header := webhooks.Sign(secret, body, at)
	if !strings.HasPrefix(header, "t=1800000000,v1=") {
		t.Fatalf("header %q", header)
	}
	if err := webhooks.Verify(secret, header, body, at.Add(time.Minute), webhooks.DefaultTolerance); err != nil {
		t.Fatalf("its own signature: %v", err)
	}
	// A receiver that accepts two signatures (a secret being rolled) finds the one that matches.
	other := strings.TrimPrefix(webhooks.Sign("whsec_old", body, at), "t=1800000000,")
	if err := webhooks.Verify(secret, other+","+header, body, at, webhooks.DefaultTolerance); err != nil {
		t.Errorf("with another v1 beside it: %v", err)
	}
	for name, c := range map[string]struct {
		secret, header string
		body           []byte
		now            time.Time
		want           error
	}{
		"another body":    {secret, header, []byte(`{"id":"evt_1","type":"order.cancelled"}`), at, webhooks.ErrBadSignature},
		"another secret":  {"whsec_other", header, body, at, webhooks.ErrBadSignature},
		"another time":    {secret, strings.Replace(header, "t=1800000000", "t=1800000001", 1), body, at, webhooks.ErrBadSignature},
		"no header":       {secret, "", body, at, webhooks.ErrBadSignature},
		"no v1":           {secret, "t=1800000000", body, at, webhooks.ErrBadSignature},
		"not hex":         {secret, "t=1800000000,v1=zz", body, at, webhooks.ErrBadSignature},
		"too old":         {secret, header, body, at.Add(6 * time.Minute), webhooks.ErrSignatureExpired},
		"from the future": {secret, header, body, at.Add(-6 * time.Minute), webhooks.ErrSignatureExpired},
	} {
		if err := webhooks.Verify(c.secret, c.header, c.body, c.now, webhooks.DefaultTolerance); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

// The address is checked again when dialled (a name may resolve anywhere):
// an endpoint on loopback, made while private addresses were allowed, gets
// nothing from a dispatcher that does not allow them.
func TestAnAddressThatIsNotAllowedIsNeverDialled(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	r := newReceiver(t, nil)
	c := register(t, s, r)
	cfg := fast
	cfg.AllowPrivate = false
	runDispatcher(t, db, cfg)
	writeOrders(t, db, rec, 1, 1, "pending_payment")
	eventually(t, 5*time.Second, func() (bool, string) {
		page, err := s.Log(t.Context(), c.ID, webhooks.LogQuery{})
		if err != nil {
			t.Fatal(err)
		}
		d := page.Deliveries[0]
		return d.Attempts > 0 && d.LastError != nil && strings.Contains(*d.LastError, "loopback"), fmt.Sprintf("%+v", d)
	})
	if n := len(r.all()); n != 0 {
		t.Errorf("the loopback endpoint got %d requests", n)
	}
}
