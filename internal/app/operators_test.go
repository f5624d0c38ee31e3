package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/app"
)

// The operators' accounts over the whole system (docs/operators.md): the
// admin token makes them, people sign in, each role is held to its routes,
// and the audit log names who did what.

const operatorPassword = "a passphrase long enough"

// addOperator makes an account with the admin token.
func (s *system) addOperator(t *testing.T, name, role string) {
	t.Helper()
	body := map[string]any{"username": name, "password": operatorPassword, "role": role}
	if status := s.call(t, http.MethodPost, "/v1/admin/operators", s.AdminToken, body, nil); status != http.StatusCreated {
		t.Fatalf("create operator %s: status %d", name, status)
	}
}

// signIn signs an operator in and returns the session token.
func (s *system) signIn(t *testing.T, name string) string {
	t.Helper()
	var sess struct {
		Token string `json:"token"`
	}
	body := map[string]any{"username": name, "password": operatorPassword}
	if status := s.call(t, http.MethodPost, "/v1/admin/login", "", body, &sess); status != http.StatusOK || sess.Token == "" {
		t.Fatalf("sign in %s: status %d", name, status)
	}
	return sess.Token
}

// errorCode is an error answer's code.
type errorCode struct {
	Error struct {
		Code string `json:"code"`
	} `json:"error"`
}

// accountRows counts what a refused request must not change.
func (s *system) accountRows(t *testing.T) [3]int {
	t.Helper()
	var c [3]int
	for i, table := range []string{"operators", "operator_sessions", "admin_actions"} {
		if err := s.DB.Get(&c[i], `SELECT count(*) FROM `+table); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func TestOperatorsActWithinTheirRoleAndTheAuditLogNamesThem(t *testing.T) {
	sys := startSystem(t)
	sys.addOperator(t, "vera", "viewer")
	sys.addOperator(t, "Olga@Shop.example", "operator")
	vera, olga := sys.signIn(t, "vera"), sys.signIn(t, "olga@shop.example")

	var me struct{ Actor, Username, Role string }
	if status := sys.call(t, http.MethodGet, "/v1/admin/me", olga, nil, &me); status != http.StatusOK ||
		me.Actor != "operator:olga@shop.example" || me.Role != "operator" {
		t.Errorf("me: %d %+v", status, me)
	}
	var sale struct{ ID string }
	if status := sys.call(t, http.MethodPost, "/v1/admin/sales", olga,
		map[string]any{"sku": "R-1", "name": "Roles", "stock": 5}, &sale); status != http.StatusCreated {
		t.Fatalf("the operator's sale: status %d", status)
	}
	var refused errorCode
	if status := sys.call(t, http.MethodPost, "/v1/admin/sales/"+sale.ID+"/pause", vera, nil, &refused); status != http.StatusForbidden ||
		refused.Error.Code != "role_forbidden" {
		t.Errorf("a viewer's pause: %d %+v", status, refused)
	}
	if status := sys.call(t, http.MethodPost, "/v1/admin/sales/"+sale.ID+"/pause", olga, nil, nil); status != http.StatusOK {
		t.Errorf("the operator's pause: status %d", status)
	}
	if status := sys.call(t, http.MethodGet, "/v1/admin/sales", sys.AdminToken, nil, nil); status != http.StatusOK {
		t.Errorf("the admin token: status %d", status)
	}
	var audit struct {
		Entries []struct{ Action, Actor string }
	}
	if status := sys.call(t, http.MethodGet, "/v1/admin/audit", vera, nil, &audit); status != http.StatusOK {
		t.Fatalf("a viewer reads the audit log: status %d", status)
	}
	actors := map[string]string{}
	for _, e := range audit.Entries {
		actors[e.Action] += e.Actor + " "
	}
	for action, want := range map[string]string{
		"operator_created": "admin-token admin-token ", "create": "operator:olga@shop.example ",
		"pause": "operator:olga@shop.example ", "operator_login": "operator:olga@shop.example operator:vera ",
	} {
		if actors[action] != want {
			t.Errorf("audit of %s names %q, want %q (log %+v)", action, actors[action], want, audit.Entries)
		}
	}
}

// TestEveryAdminRouteRefusesTheRolesBelowIt walks docs/operators.md's
// table, which server's TestTheOperatorsDocListsEveryRouteWithItsRole holds
// to the code: a viewer and an operator are refused every route above
// their role (and nothing is done), and let through to the rest.
func TestEveryAdminRouteRefusesTheRolesBelowIt(t *testing.T) {
	raw, err := os.ReadFile("../../docs/operators.md")
	if err != nil {
		t.Fatal(err)
	}
	routes := regexp.MustCompile("(?m)^\\| `(GET|POST|PUT|PATCH|DELETE) (/v1/admin/[^`]*)` \\| (\\w+) \\|").FindAllStringSubmatch(string(raw), -1)
	if len(routes) < 40 {
		t.Fatalf("docs/operators.md lists %d routes", len(routes))
	}
	sys := startSystem(t)
	sys.addOperator(t, "vera", "viewer")
	sys.addOperator(t, "olga", "operator")
	rank := map[string]int{"viewer": 1, "operator": 2, "admin": 3}
	params := strings.NewReplacer(":sale", "no-such-sale", ":key", "0123456789ab", ":endpoint", "no-such-endpoint",
		":delivery", "1", ":operator", "nobody")
	for _, who := range []struct{ name, role string }{{"vera", "viewer"}, {"olga", "operator"}} {
		token := sys.signIn(t, who.name)
		for _, r := range routes {
			method, path, least := r[1], params.Replace(r[2]), r[3]
			before := sys.accountRows(t)
			var got errorCode
			status := sys.call(t, method, path, token, nil, &got)
			refused := status == http.StatusForbidden && got.Error.Code == "role_forbidden"
			if rank[who.role] < rank[least] {
				if !refused {
					t.Errorf("%s (%s) %s %s: %d %q, want 403 role_forbidden", who.name, who.role, method, path, status, got.Error.Code)
				}
				if after := sys.accountRows(t); after != before {
					t.Errorf("%s %s refused changed the rows: %v, then %v", method, path, before, after)
				}
			} else if refused || status == http.StatusUnauthorized {
				t.Errorf("%s (%s) %s %s: refused with %d %q", who.name, who.role, method, path, status, got.Error.Code)
			}
		}
	}
}

func TestARefusedSignInChangesNothingAndTellsNothing(t *testing.T) {
	sys := startSystem(t)
	sys.addOperator(t, "alice", "admin")
	before := sys.accountRows(t)
	for name, body := range map[string]map[string]any{
		"wrong password":  {"username": "alice", "password": operatorPassword + "!"},
		"unknown account": {"username": "bob", "password": operatorPassword},
		"no password":     {"username": "alice"},
	} {
		var got errorCode
		if status := sys.call(t, http.MethodPost, "/v1/admin/login", "", body, &got); status != http.StatusUnauthorized ||
			got.Error.Code != "login_failed" {
			t.Errorf("%s: %d %q, want 401 login_failed", name, status, got.Error.Code)
		}
	}
	for name, c := range map[string]struct {
		body string
		want int
	}{
		"not JSON":   {"alice:" + operatorPassword, http.StatusBadRequest},
		"over 4 KB":  {`{"username":"alice","password":"` + strings.Repeat("p", 5000) + `"}`, http.StatusRequestEntityTooLarge},
		"wrong type": {`{"username":["alice"],"password":1}`, http.StatusBadRequest},
	} {
		resp, err := http.Post(sys.URL+"/v1/admin/login", "application/json", bytes.NewBufferString(c.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", name, resp.StatusCode, c.want)
		}
	}
	if after := sys.accountRows(t); after != before {
		t.Errorf("refused sign-ins changed the rows: %v, then %v", before, after)
	}
	// A session token made up, or signed out, opens nothing.
	token := sys.signIn(t, "alice")
	if status := sys.call(t, http.MethodPost, "/v1/admin/logout", token, nil, nil); status != http.StatusNoContent {
		t.Errorf("logout: %d", status)
	}
	for _, bad := range []string{token, "fo_" + strings.Repeat("A", 43)} {
		var got errorCode
		if status := sys.call(t, http.MethodGet, "/v1/admin/sales", bad, nil, &got); status != http.StatusUnauthorized ||
			got.Error.Code != "operator_session_invalid" {
			t.Errorf("token %.8q: %d %q, want 401 operator_session_invalid", bad, status, got.Error.Code)
		}
	}
}

func TestADisabledOperatorsSessionsAreRefusedOnTheAPIAndTheLiveFeed(t *testing.T) {
	sys := startSystem(t)
	sys.addOperator(t, "vera", "viewer")
	vera := sys.signIn(t, "vera")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	live := dialLive(t, ctx, sys, vera)
	if _, _, err := live.Read(ctx); err != nil {
		t.Fatalf("a viewer's live feed: %v", err)
	}
	if status := sys.call(t, http.MethodPost, "/v1/admin/operators/vera/disable", sys.AdminToken, nil, nil); status != http.StatusOK {
		t.Fatalf("disable: %d", status)
	}
	var got errorCode
	if status := sys.call(t, http.MethodGet, "/v1/admin/sales", vera, nil, &got); status != http.StatusUnauthorized ||
		got.Error.Code != "operator_session_invalid" {
		t.Errorf("a disabled operator's session: %d %q", status, got.Error.Code)
	}
	if code := closeCode(ctx, live); code != 4001 {
		t.Errorf("a disabled operator's open live feed: close %d, want 4001", code)
	}
	if code := closeCode(ctx, dialLive(t, ctx, sys, vera)); code != 4001 {
		t.Errorf("a disabled operator's live feed: close %d, want 4001", code)
	}
	if status := sys.call(t, http.MethodPost, "/v1/admin/login", "",
		map[string]any{"username": "vera", "password": operatorPassword}, &got); status != http.StatusUnauthorized {
		t.Errorf("a disabled operator signs in: %d", status)
	}
}

func TestSignInsAreRateLimitedPerAccountAndPerAddress(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_LIMIT_ACCOUNT_LOGINS": "2", "FOYER_LIMIT_IP_LOGINS": "4"})
	sys.addOperator(t, "alice", "viewer")
	sys.addOperator(t, "bob", "viewer")
	login := func(name, password string) (int, string) {
		var got errorCode
		status := sys.call(t, http.MethodPost, "/v1/admin/login", "", map[string]any{"username": name, "password": password}, &got)
		return status, got.Error.Code
	}
	login("alice", "wrong password here")
	login("ALICE", operatorPassword)
	if status, code := login("alice", operatorPassword); status != http.StatusTooManyRequests || code != "rate_limited" {
		t.Errorf("a third sign-in to one account in a minute: %d %q, want 429 rate_limited", status, code)
	}
	if status, _ := login("bob", operatorPassword); status != http.StatusOK {
		t.Errorf("another account: %d", status)
	}
	if status, code := login("carol", operatorPassword); status != http.StatusTooManyRequests || code != "rate_limited" {
		t.Errorf("a fifth sign-in from one address in a minute: %d %q, want 429 rate_limited", status, code)
	}
}

// TestTheCommandLineMakesAnAdminWhoSignsIn: foyer operator create, the
// first admin without the admin token; a bad one makes nothing.
func TestTheCommandLineMakesAnAdminWhoSignsIn(t *testing.T) {
	sys := startSystem(t)
	ctx := context.Background()
	before := sys.accountRows(t)
	for name, c := range map[string]struct{ user, role, password string }{
		"unknown role":   {"root", "superuser", operatorPassword + "\n"},
		"short password": {"root", "admin", "short\n"},
		"no password":    {"root", "admin", ""},
		"bad username":   {"r", "admin", operatorPassword + "\n"},
	} {
		if err := app.CreateOperator(ctx, sys.cfg, c.user, c.role, strings.NewReader(c.password), io.Discard); err == nil {
			t.Errorf("%s: made an account", name)
		}
	}
	if after := sys.accountRows(t); after != before {
		t.Errorf("refused accounts changed the rows: %v, then %v", before, after)
	}
	var out bytes.Buffer
	if err := app.CreateOperator(ctx, sys.cfg, "Root", "admin", strings.NewReader(operatorPassword+"\r\nignored"), &out); err != nil {
		t.Fatal(err)
	}
	var me struct{ Actor, Role string }
	if status := sys.call(t, http.MethodGet, "/v1/admin/me", sys.signIn(t, "root"), nil, &me); status != http.StatusOK ||
		me.Actor != "operator:root" || me.Role != "admin" {
		t.Errorf("the CLI's admin: %d %+v (%s)", status, me, out.String())
	}
	var actor string
	if err := sys.DB.Get(&actor, `SELECT actor FROM admin_actions WHERE action = 'operator_created'`); err != nil || actor != "cli" {
		t.Errorf("the creation is audited by %q: %v", actor, err)
	}
}
