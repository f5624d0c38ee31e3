package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"

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
	// A code may stand for errors of two packages that mean the same to a
	// client (an unknown reservation, from checkout or the waiting room), but
	// always with one status.
	seen := map[string]int{}
	for _, p := range append(problems, struct {
		err error
		problem
	}{nil, internalProblem}) {
		if status, ok := seen[p.code]; ok && status != p.status {
			t.Errorf("code %s is used with two statuses, %d and %d", p.code, status, p.status)
		}
		seen[p.code] = p.status
		if !strings.Contains(string(doc), "| `"+p.code+"` |") {
			t.Errorf("docs/protocol.md does not list the error code %s", p.code)
		}
	}
}

func TestAnUnreachableRedisIsUnavailableAndABugIsNot(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 6379},
		Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		name string
		err  error
		code string
	}{
		{"connection refused", fmt.Errorf("join sale s_1: %w", refused), "unavailable"},
		{"connection lost", fmt.Errorf("read sale s_1: %w", io.EOF), "unavailable"},
		{"timeout", fmt.Errorf("join sale s_1: %w", context.DeadlineExceeded), "unavailable"},
		{"pool exhausted", fmt.Errorf("join sale s_1: %w", redis.ErrPoolTimeout), "unavailable"},
		{"a script that fails", fmt.Errorf("join sale s_1: %w", errors.New("ERR user_script:12: attempt to compare nil")), "internal"},
		{"the client went away", fmt.Errorf("join sale s_1: %w", context.Canceled), "internal"},
		{"a domain error", fmt.Errorf("join sale s_1: %w", waitingroom.ErrSoldOut), "sold_out"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := problemFor(tc.err)
			if p.code != tc.code {
				t.Fatalf("problemFor = %s, want %s", p.code, tc.code)
			}
			if tc.code != "unavailable" {
				return
			}
			if p.status != http.StatusServiceUnavailable || retryAfterOf(tc.err) != unavailableRetryAfter {
				t.Errorf("status %d, retry after %d; want 503 with %d", p.status, retryAfterOf(tc.err), unavailableRetryAfter)
			}
			if msg := describe(p, tc.err); strings.Contains(msg, "10.0.0.7") || strings.Contains(msg, "EOF") {
				t.Errorf("unavailable leaks its cause to clients: %q", msg)
			}
		})
	}
}
