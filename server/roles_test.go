package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/internal/operators"
	"github.com/foyerhq/foyer/internal/testenv"
)

// allRoutesServer is a server with every optional part present, so that
// every route is registered. The parts are never called.
func allRoutesServer(t *testing.T) *Server {
	t.Helper()
	ring, err := keyring.New(keyring.NewSeed())
	if err != nil {
		t.Fatal(err)
	}
	return New(Config{AdminToken: "t"}, Deps{
		Tokens: checkout.NewTokens(ring), Ring: ring, Log: slog.New(slog.DiscardHandler),
		Redeems: struct{ Redeemer }{}, Stripe: struct{ StripeWebhooks }{},
		PaymentSummaries: struct{ PaymentSummaries }{}, Invitations: struct{ Invitations }{},
		Blocklist: struct{ Blocklist }{}, ShopKeys: struct{ ShopKeys }{}, Webhooks: struct{ Webhooks }{},
		Accounts: struct{ Accounts }{}, History: struct{ SaleHistory }{}, Brandings: struct{ Brandings }{},
		Products: struct{ Products }{},
	})
}

// TestEveryAdminRouteHasARoleDecided fails on an admin route registered
// without the least role that may call it (server.go's s.route).
func TestEveryAdminRouteHasARoleDecided(t *testing.T) {
	s := allRoutesServer(t)
	outside := []string{"/v1/admin/live", "/v1/admin/login", "/v1/admin/logout"} // each checks its own token
	n := 0
	for _, r := range s.engine.Routes() {
		if !strings.HasPrefix(r.Path, "/v1/admin/") || slices.Contains(outside, r.Path) {
			continue
		}
		n++
		if _, ok := s.roleOf[r.Method+" "+r.Path]; !ok {
			t.Errorf("%s %s has no role decided: register it with s.route and the least role that may call it", r.Method, r.Path)
		}
	}
	if n != len(s.roles) || n < 40 {
		t.Errorf("%d admin routes, %d role decisions", n, len(s.roles))
	}
}

// TestTheOperatorsDocListsEveryRouteWithItsRole: docs/operators.md's table
// of who may do what is the code's.
func TestTheOperatorsDocListsEveryRouteWithItsRole(t *testing.T) {
	raw, err := os.ReadFile("../docs/operators.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(GET|POST|PUT|PATCH|DELETE) (/v1/admin/[^`]*)` \\| (\\w+) \\|")
	documented := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(raw), -1) {
		documented[m[1]+" "+m[2]] = m[3]
	}
	s := allRoutesServer(t)
	for _, r := range s.AdminRoles() {
		key := r.Method + " " + r.Path
		if got, ok := documented[key]; !ok || got != string(r.Least) {
			t.Errorf("docs/operators.md: want the row | `%s` | %s |, have %q", key, r.Least, got)
		}
		delete(documented, key)
	}
	for key := range documented {
		t.Errorf("docs/operators.md lists %s, which the server does not serve", key)
	}
}

func TestMain(m *testing.M) { testenv.Main(m) }

// TestARouteWithNoRoleDecidedIsAnAdminsOnly: a route added to the admin
// group without s.route is refused to every role but admin.
func TestARouteWithNoRoleDecidedIsAnAdminsOnly(t *testing.T) {
	db, err := sqlx.Open("postgres", testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	accounts := operators.New(db)
	ctx := context.Background()
	const password = "a password long enough"
	if _, err := accounts.Create(ctx, operators.NewOperator{Username: "vera", Password: password, Role: operators.RoleOperator}, "test"); err != nil {
		t.Fatal(err)
	}
	sess, err := accounts.Login(ctx, "vera", password)
	if err != nil {
		t.Fatal(err)
	}
	s := allRoutesServer(t)
	s.deps.Accounts = accounts
	s.engine.Group("/v1/admin", s.authenticate).GET("/undecided", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	for _, c := range []struct {
		token string
		want  int
		code  string
	}{{sess.Token, http.StatusForbidden, "role_forbidden"}, {"t", http.StatusNoContent, ""}, {"", http.StatusUnauthorized, "unauthorized"}} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/admin/undecided", nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body errorBody
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != c.want || body.Error.Code != c.code {
			t.Errorf("token %.6q: %d %q, want %d %q", c.token, resp.StatusCode, body.Error.Code, c.want, c.code)
		}
	}
}
