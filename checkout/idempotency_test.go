package checkout_test

import (
	"errors"
	"testing"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/testenv"
)

// TestAnIdempotencyKeyIsClaimedOrAnsweredInOneCommand walks a key through
// what Begin tells: free (claimed), claimed by a request still running (in
// progress), sent again with another request (reused), answered (the stored
// answer). Each is one command, so a client retrying a checkout costs Redis
// one round trip however the key stands.
func TestAnIdempotencyKeyIsClaimedOrAnsweredInOneCommand(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	commands := &testenv.RedisCalls{}
	rdb.AddHook(commands)
	answers := checkout.NewAnswers(rdb)
	ctx := t.Context()
	if err := rdb.Ping(ctx).Err(); err != nil { // the connection's own handshake is not Begin's
		t.Fatal(err)
	}
	begin := func(fingerprint string) (*checkout.Answer, error) {
		t.Helper()
		before := commands.Commands()
		ans, err := answers.Begin(ctx, "s_1", "shopper", "key-1", fingerprint)
		if n := commands.Commands() - before; n != 1 {
			t.Errorf("Begin sent %d commands, want 1", n)
		}
		return ans, err
	}
	if ans, err := begin("first"); err != nil || ans != nil {
		t.Fatalf("a free key: answer %v, err %v; want it claimed", ans, err)
	}
	if _, err := begin("first"); !errors.Is(err, checkout.ErrRequestInProgress) {
		t.Errorf("the same request while the first runs: err %v, want ErrRequestInProgress", err)
	}
	if _, err := begin("other"); !errors.Is(err, checkout.ErrKeyReused) {
		t.Errorf("another request with the key: err %v, want ErrKeyReused", err)
	}
	stored := checkout.Answer{Status: 200, Body: []byte(`{"status":"confirmed"}`), Fingerprint: "first"}
	if err := answers.Finish(ctx, "s_1", "shopper", "key-1", stored); err != nil {
		t.Fatal(err)
	}
	ans, err := begin("first")
	if err != nil || ans == nil || ans.Status != 200 || string(ans.Body) != string(stored.Body) {
		t.Fatalf("the answered request again: answer %+v, err %v; want the stored answer", ans, err)
	}
	if _, err := begin("other"); !errors.Is(err, checkout.ErrKeyReused) {
		t.Errorf("another request with an answered key: err %v, want ErrKeyReused", err)
	}
	if err := answers.Abandon(ctx, "s_1", "shopper", "key-1"); err != nil {
		t.Fatal(err)
	}
	if ans, err := begin("other"); err != nil || ans != nil {
		t.Errorf("a freed key: answer %v, err %v; want it claimed afresh", ans, err)
	}
}
