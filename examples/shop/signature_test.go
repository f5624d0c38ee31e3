package shop_test

import (
	"errors"
	"testing"
	"time"

	"github.com/foyerhq/foyer/examples/shop"
)

// A vector worked out apart from this code (Python's hmac module):
// hmac.new(b"whsec_test_vector_secret", b'1700000000.{"id":"evt_1","type":"order.paid"}', sha256).hexdigest()
const (
	vectorSecret = "whsec_test_vector_secret"
	vectorBody   = `{"id":"evt_1","type":"order.paid"}`
	vectorSig    = "973918f519898ac9c76f22d15446a3474028660e27d39f5fdbbf7314bb190756"
)

var vectorTime = time.Unix(1700000000, 0)

func TestAFoyerSignatureOfTheKnownVectorVerifies(t *testing.T) {
	header := "t=1700000000,v1=" + vectorSig
	if err := shop.VerifySignature(vectorSecret, header, []byte(vectorBody), vectorTime.Add(time.Minute)); err != nil {
		t.Fatalf("the known vector is refused: %v", err)
	}
	// While Foyer rotates a secret it may send two v1: either may match.
	if err := shop.VerifySignature(vectorSecret, "t=1700000000,v1=00ff,v1="+vectorSig, []byte(vectorBody), vectorTime); err != nil {
		t.Errorf("a second v1 that matches is refused: %v", err)
	}
}

func TestASignatureIsRefusedForAnotherBodySecretOrTimeOrAMalformedHeader(t *testing.T) {
	good := "t=1700000000,v1=" + vectorSig
	cases := []struct {
		name, secret, header, body string
		now                        time.Time
	}{
		{"another body", vectorSecret, good, `{"id":"evt_2","type":"order.paid"}`, vectorTime},
		{"another secret", "whsec_other", good, vectorBody, vectorTime},
		{"six minutes old", vectorSecret, good, vectorBody, vectorTime.Add(6 * time.Minute)},
		{"six minutes ahead", vectorSecret, good, vectorBody, vectorTime.Add(-6 * time.Minute)},
		{"another timestamp under the same v1", vectorSecret, "t=1700000001,v1=" + vectorSig, vectorBody, vectorTime},
		{"no timestamp", vectorSecret, "v1=" + vectorSig, vectorBody, vectorTime},
		{"no v1", vectorSecret, "t=1700000000", vectorBody, vectorTime},
		{"no header", vectorSecret, "", vectorBody, vectorTime},
		{"a v0 only", vectorSecret, "t=1700000000,v0=" + vectorSig, vectorBody, vectorTime},
	}
	for _, tc := range cases {
		if err := shop.VerifySignature(tc.secret, tc.header, []byte(tc.body), tc.now); !errors.Is(err, shop.ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", tc.name, err)
		}
	}
}
