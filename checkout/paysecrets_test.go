package checkout_test

import (
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
)

// A pending order's payment secret is kept beside its sale (in the sale's
// hash slot), read back by its reservation, and expires after the TTL;
// none kept reads "".
func TestAPaymentSecretIsKeptBesideItsSaleUntilItsTTL(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	secrets := checkout.NewPaymentSecrets(rdb, 10*time.Minute)
	ctx := t.Context()
	if err := secrets.Keep(ctx, "s_pay", map[string]string{"r_1": "pi_1_secret_a", "r_2": "pi_2_secret_b"}); err != nil {
		t.Fatal(err)
	}
	for reservation, want := range map[string]string{"r_1": "pi_1_secret_a", "r_2": "pi_2_secret_b", "r_none": ""} {
		if got, err := secrets.Get(ctx, "s_pay", reservation); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", reservation, got, err, want)
		}
	}
	if got, _ := secrets.Get(ctx, "s_other", "r_1"); got != "" {
		t.Errorf("another sale's reservation r_1 read %q", got)
	}
	key := waitingroom.Keys("s_pay").Beside("paysecret:r_1")
	if ttl := rdb.TTL(ctx, key).Val(); ttl <= 9*time.Minute || ttl > 10*time.Minute {
		t.Errorf("%s expires in %v, want the TTL, 10m", key, ttl)
	}
}
