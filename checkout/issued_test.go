package checkout

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/waitingroom"
)

// twoNodes returns the tokens of two nodes of one deployment: one ring.
func twoNodes(t testing.TB) (here, there *Tokens) {
	t.Helper()
	ring, err := keyring.New(keyring.NewSeed())
	if err != nil {
		t.Fatal(err)
	}
	return NewTokens(ring), NewTokens(ring)
}

// reservationHeld is a reservation admitted now, held for ttl (negative: lapsed).
func reservationHeld(id string, ttl time.Duration) waitingroom.Reservation {
	now := time.Now()
	return waitingroom.Reservation{ID: id, Shopper: "shopper-" + id, Txn: "txn-" + id,
		AdmittedAtMs: now.Add(min(ttl, 0) - time.Second).UnixMilli(), ExpiresAtMs: now.Add(ttl).UnixMilli()}
}

// TestATokenSignedHereIsKnownByItsTextWithTheClaimsItsSignatureGives checks
// a token on the node that signed it, which knows it by its text, and on
// another node, which checks its signature: both accept it with the same
// claims.
func TestATokenSignedHereIsKnownByItsTextWithTheClaimsItsSignatureGives(t *testing.T) {
	here, there := twoNodes(t)
	token, err := here.IssueFor("s_1", reservationHeld("r_1", time.Minute), "customer-1")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := here.issued.valid("s_1", token, time.Now()); c == nil {
		t.Fatal("the node that signed the token does not know it")
	}
	if c, _ := there.issued.valid("s_1", token, time.Now()); c != nil {
		t.Fatal("a node that did not sign the token knows it")
	}
	known, err := here.Verify("s_1", token)
	if err != nil {
		t.Fatal(err)
	}
	checked, err := there.Verify("s_1", token)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(known, checked) {
		t.Errorf("known claims %+v, checked by signature %+v", known, checked)
	}
}

// TestATokenSignedHereIsRefusedAsItsSignatureCheckRefusesIt sets the node
// that signed each token beside one that did not, for tokens each must
// refuse with the same error: for another sale, lapsed, altered; and a
// token forgotten among too many others is still accepted, by its
// signature.
func TestATokenSignedHereIsRefusedAsItsSignatureCheckRefusesIt(t *testing.T) {
	here, there := twoNodes(t)
	sign := func(r waitingroom.Reservation) string {
		t.Helper()
		token, err := here.Issue("s_1", r)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	good := sign(reservationHeld("r_good", time.Hour)) // outlives signing issuedMost more under -race on a busy machine
	lapsed := sign(reservationHeld("r_lapsed", -time.Minute))
	altered := good[:len(good)-2] + map[bool]string{true: "AA", false: "BB"}[good[len(good)-2:] != "AA"]
	for _, c := range []struct {
		name, sale, token string
		want              error
	}{
		{"another sale", "s_2", good, ErrTokenWrongSale},
		{"lapsed", "s_1", lapsed, ErrTokenExpired},
		{"altered", "s_1", altered, ErrTokenInvalid},
	} {
		for node, tokens := range map[string]*Tokens{"the signer": here, "another node": there} {
			if _, err := tokens.Verify(c.sale, c.token); !errors.Is(err, c.want) {
				t.Errorf("%s, on %s: err %v, want %v", c.name, node, err, c.want)
			}
		}
	}
	for i := range issuedMost {
		sign(reservationHeld(fmt.Sprint("r_", i), time.Minute))
	}
	if c, _ := here.issued.valid("s_1", good, time.Now()); c != nil {
		t.Fatal("a token signed before issuedMost others is still known")
	}
	if _, err := here.Verify("s_1", good); err != nil {
		t.Errorf("a forgotten token is refused: %v", err)
	}
}

// BenchmarkCheckoutTokenKnownOrSigned checks one reservation token on the
// node that signed it (known by its text) and on another (its signature).
func BenchmarkCheckoutTokenKnownOrSigned(b *testing.B) {
	here, there := twoNodes(b)
	token, err := here.Issue("s_1", reservationHeld("r_1", time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	for node, tokens := range map[string]*Tokens{"known": here, "signature": there} {
		b.Run(node, func(b *testing.B) {
			for b.Loop() {
				if _, err := tokens.Verify("s_1", token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Only the first presentation of a token on the node that signed it is
// first: a retry, another node's token, and a token for another sale are
// not, however many come at once.
func TestOnlyTheFirstPresentationOfATokenSignedHereIsFirst(t *testing.T) {
	here, there := twoNodes(t)
	token, err := here.Issue("s_1", reservationHeld("r_1", time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := here.VerifyFor("s_2", token); err == nil || v.FirstHere() {
		t.Fatalf("another sale: first %v, err %v; want refused and not first", v.FirstHere(), err)
	}
	if v, err := there.VerifyFor("s_1", token); err != nil || v.FirstHere() {
		t.Fatalf("on another node: first %v, err %v; want verified and not first", v.FirstHere(), err)
	}
	firsts := make(chan bool, 8)
	for range cap(firsts) {
		go func() {
			v, err := here.VerifyFor("s_1", token)
			if err != nil {
				t.Error(err)
			}
			firsts <- v.FirstHere()
		}()
	}
	n := 0
	for range cap(firsts) {
		if <-firsts {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d of 8 presentations at once were first, want 1", n)
	}
	if v, _ := here.VerifyFor("s_1", token); v.FirstHere() {
		t.Error("a later presentation is first")
	}
}
