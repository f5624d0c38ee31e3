package server

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/waitingroom"
)

func TestWrappedErrorsFindTheirProblem(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("join sale s_1: %w", waitingroom.ErrSoldOut), http.StatusConflict, "sold_out"},
		{fmt.Errorf("confirm: %w", checkout.ErrTokenReused), http.StatusConflict, "token_reused"},
		{fmt.Errorf("verify token: %w", checkout.ErrTokenExpired), http.StatusUnauthorized, "token_expired"},
		{fmt.Errorf("read: %w", errBadMessage), http.StatusBadRequest, "bad_message"},
		{fmt.Errorf("redis is down"), http.StatusInternalServerError, "internal"},
	}
	for _, tc := range cases {
		p := problemFor(tc.err)
		if p.status != tc.status || p.code != tc.code {
			t.Errorf("problemFor(%v) = %d %s, want %d %s", tc.err, p.status, p.code, tc.status, tc.code)
		}
	}
	if msg := describe(internalProblem, fmt.Errorf("dial tcp 10.0.0.1:5432: secret detail")); strings.Contains(msg, "secret") {
		t.Errorf("an internal error leaks its detail to clients: %q", msg)
	}
}

func TestEveryErrorCodeIsUniqueAndDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range append(problems, struct {
		err error
		problem
	}{nil, internalProblem}) {
		if seen[p.code] {
			t.Errorf("code %s is used twice", p.code)
		}
		seen[p.code] = true
		if !strings.Contains(string(doc), "| `"+p.code+"` |") {
			t.Errorf("docs/protocol.md does not list the error code %s", p.code)
		}
	}
}
