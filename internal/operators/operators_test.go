package operators_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/internal/operators"
	"github.com/foyerhq/foyer/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// testStore is a store on a database of the test's own, with a clock the
// test moves.
type testStore struct {
	*operators.Store
	db  *sqlx.DB
	now time.Time
}

func newStore(t *testing.T) *testStore {
	t.Helper()
	db, err := sqlx.Open("postgres", testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ts := &testStore{Store: operators.New(db), db: db, now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	ts.Now = func() time.Time { return ts.now }
	// A cheap cost: these tests are about accounts and sessions, and
	// TestPasswordsAreHashedWithArgon2idAtTheDefaultCost about the cost.
	ts.Cost = operators.Cost{MemoryKiB: 64, Passes: 1, Threads: 1}
	return ts
}

const password = "correct horse battery"

func (ts *testStore) create(t *testing.T, name string, role operators.Role) {
	t.Helper()
	if _, err := ts.Create(context.Background(), operators.NewOperator{Username: name, Password: password, Role: role}, "admin-token"); err != nil {
		t.Fatal(err)
	}
}

func (ts *testStore) login(t *testing.T, name string) string {
	t.Helper()
	s, err := ts.Login(context.Background(), name, password)
	if err != nil {
		t.Fatal(err)
	}
	return s.Token
}

// counts are the rows a refused request must not change.
func (ts *testStore) counts(t *testing.T) [3]int {
	t.Helper()
	var c [3]int
	for i, table := range []string{"operators", "operator_sessions", "admin_actions"} {
		if err := ts.db.Get(&c[i], `SELECT count(*) FROM `+table); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func TestASignInStartsASessionThatNamesTheOperatorAndIsAudited(t *testing.T) {
	ts := newStore(t)
	ts.create(t, "Alice@Shop.example", operators.RoleOperator)
	sess, err := ts.Login(context.Background(), "alice@shop.example", password)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sess.Token, operators.SessionPrefix) || !sess.ExpiresAt.Equal(ts.now.Add(operators.SessionMax)) {
		t.Errorf("session %+v", sess)
	}
	op, err := ts.Authenticate(context.Background(), sess.Token)
	if err != nil || op.Username != "alice@shop.example" || op.Role != operators.RoleOperator {
		t.Fatalf("Authenticate: %+v %v", op, err)
	}
	var rows []struct{ Action, Actor string }
	if err := ts.db.Select(&rows, `SELECT action, actor FROM admin_actions ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	want := []struct{ Action, Actor string }{{"operator_created", "admin-token"}, {"operator_login", "operator:alice@shop.example"}}
	if len(rows) != 2 || rows[0] != want[0] || rows[1] != want[1] {
		t.Errorf("audit rows %v, want %v", rows, want)
	}
	var stored []byte
	if err := ts.db.Get(&stored, `SELECT token_hash FROM operator_sessions`); err != nil || strings.Contains(string(stored), sess.Token) {
		t.Errorf("the session token is stored as it is, or not at all: %v", err)
	}
}

func TestARefusedSignInChangesNothingAndSaysTheSameWhateverItsReason(t *testing.T) {
	ts := newStore(t)
	ts.create(t, "alice", operators.RoleAdmin)
	ts.create(t, "gone", operators.RoleViewer)
	if _, err := ts.SetDisabled(context.Background(), "gone", true, "admin-token"); err != nil {
		t.Fatal(err)
	}
	before := ts.counts(t)
	for name, c := range map[string]struct{ user, password string }{
		"wrong password":   {"alice", password + "!"},
		"unknown account":  {"bob", password},
		"disabled account": {"gone", password},
		"empty":            {"", ""},
		"long password":    {"alice", strings.Repeat("p", 100_000)},
		"long username":    {strings.Repeat("a", 10_000), password},
	} {
		if _, err := ts.Login(context.Background(), c.user, c.password); !errors.Is(err, operators.ErrLoginFailed) || err.Error() != operators.ErrLoginFailed.Error() {
			t.Errorf("%s: %v, want ErrLoginFailed alone", name, err)
		}
	}
	if after := ts.counts(t); after != before {
		t.Errorf("refused sign-ins changed the rows: %v, then %v", before, after)
	}
}

func TestASessionEndsWhenIdleTooLongOrTooOldOrSignedOut(t *testing.T) {
	ts := newStore(t)
	ts.create(t, "alice", operators.RoleViewer)
	ctx := context.Background()
	valid := func(token string) bool {
		_, err := ts.Authenticate(ctx, token)
		if err != nil && !errors.Is(err, operators.ErrSessionInvalid) {
			t.Fatal(err)
		}
		return err == nil
	}

	idle := ts.login(t, "alice")
	ts.now = ts.now.Add(operators.SessionIdle - time.Second)
	if !valid(idle) {
		t.Fatal("a session used within its idle bound ended")
	}
	ts.now = ts.now.Add(operators.SessionIdle)
	if valid(idle) {
		t.Error("a session idle past its bound still works")
	}

	busy, signedIn := ts.login(t, "alice"), ts.now
	for range int(operators.SessionMax/operators.SessionIdle) * 2 {
		if !valid(busy) {
			t.Fatalf("a session in use ended after %v", ts.now.Sub(signedIn))
		}
		ts.now = ts.now.Add(operators.SessionIdle / 2)
	}
	if valid(busy) {
		t.Errorf("a session in use still works past %v", operators.SessionMax)
	}

	out := ts.login(t, "alice")
	if err := ts.Logout(ctx, out); err != nil {
		t.Fatal(err)
	}
	if valid(out) {
		t.Error("a signed-out session still works")
	}
	for _, forged := range []string{"", "admin", operators.SessionPrefix + strings.Repeat("A", 43), strings.Repeat("x", 5000)} {
		if valid(forged) {
			t.Errorf("the made-up token %q works", forged)
		}
	}
}

func TestDisablingAnAccountOrResettingItsPasswordEndsItsSessionsAndARoleChangeAppliesAtOnce(t *testing.T) {
	ts := newStore(t)
	ctx := context.Background()
	ts.create(t, "alice", operators.RoleViewer)
	token := ts.login(t, "alice")
	if _, err := ts.SetRole(ctx, "ALICE", operators.RoleAdmin, "admin-token"); err != nil {
		t.Fatal(err)
	}
	if op, err := ts.Authenticate(ctx, token); err != nil || op.Role != operators.RoleAdmin {
		t.Errorf("after the role change: %+v %v", op, err)
	}
	if _, err := ts.SetDisabled(ctx, "alice", true, "operator:boss"); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Authenticate(ctx, token); !errors.Is(err, operators.ErrSessionInvalid) {
		t.Errorf("a disabled account's session: %v", err)
	}
	if _, err := ts.Login(ctx, "alice", password); !errors.Is(err, operators.ErrLoginFailed) {
		t.Errorf("a disabled account signs in: %v", err)
	}
	if _, err := ts.SetDisabled(ctx, "alice", false, "operator:boss"); err != nil {
		t.Fatal(err)
	}
	token = ts.login(t, "alice")
	if _, err := ts.ResetPassword(ctx, "alice", "a new password of length", "operator:boss"); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Authenticate(ctx, token); !errors.Is(err, operators.ErrSessionInvalid) {
		t.Errorf("a session after its password was reset: %v", err)
	}
	if _, err := ts.Login(ctx, "alice", "a new password of length"); err != nil {
		t.Errorf("the new password: %v", err)
	}
	var actions []string
	if err := ts.db.Select(&actions, `SELECT action FROM admin_actions WHERE actor = 'operator:boss' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if strings.Join(actions, ",") != "operator_disabled,operator_enabled,operator_password_reset" {
		t.Errorf("audited %v", actions)
	}
}

func TestAnAccountKeepsAtMostMaxSessionsEndingTheOldest(t *testing.T) {
	ts := newStore(t)
	ts.create(t, "alice", operators.RoleViewer)
	var tokens []string
	for range operators.MaxSessions + 1 {
		tokens = append(tokens, ts.login(t, "alice"))
		ts.now = ts.now.Add(time.Second)
	}
	if _, err := ts.Authenticate(context.Background(), tokens[0]); !errors.Is(err, operators.ErrSessionInvalid) {
		t.Errorf("the oldest session past the bound: %v", err)
	}
	for _, tok := range tokens[1:] {
		if _, err := ts.Authenticate(context.Background(), tok); err != nil {
			t.Errorf("a newer session: %v", err)
		}
	}
}

func TestBadAccountRequestsAreRefusedAndChangeNothing(t *testing.T) {
	ts := newStore(t)
	ctx := context.Background()
	ts.create(t, "alice", operators.RoleViewer)
	before := ts.counts(t)
	for name, c := range map[string]struct {
		n    operators.NewOperator
		want error
	}{
		"short username":  {operators.NewOperator{Username: "al", Password: password, Role: "viewer"}, operators.ErrBadRequest},
		"long username":   {operators.NewOperator{Username: strings.Repeat("a", 65), Password: password, Role: "viewer"}, operators.ErrBadRequest},
		"space in name":   {operators.NewOperator{Username: "al ice", Password: password, Role: "viewer"}, operators.ErrBadRequest},
		"bidi in name":    {operators.NewOperator{Username: "al\u202eice", Password: password, Role: "viewer"}, operators.ErrBadRequest},
		"short password":  {operators.NewOperator{Username: "bob", Password: "short", Role: "viewer"}, operators.ErrBadRequest},
		"long password":   {operators.NewOperator{Username: "bob", Password: strings.Repeat("p", 129), Role: "viewer"}, operators.ErrBadRequest},
		"no role":         {operators.NewOperator{Username: "bob", Password: password}, operators.ErrBadRequest},
		"unknown role":    {operators.NewOperator{Username: "bob", Password: password, Role: "root"}, operators.ErrBadRequest},
		"taken, any case": {operators.NewOperator{Username: "ALICE", Password: password, Role: "viewer"}, operators.ErrExists},
	} {
		if _, err := ts.Create(ctx, c.n, "admin-token"); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if _, err := ts.SetRole(ctx, "alice", "root", "admin-token"); !errors.Is(err, operators.ErrBadRequest) {
		t.Errorf("an unknown role: %v", err)
	}
	if _, err := ts.SetRole(ctx, "nobody", operators.RoleAdmin, "admin-token"); !errors.Is(err, operators.ErrNotFound) {
		t.Errorf("an unknown account: %v", err)
	}
	if _, err := ts.ResetPassword(ctx, "alice", "short", "admin-token"); !errors.Is(err, operators.ErrBadRequest) {
		t.Errorf("a short new password: %v", err)
	}
	if _, err := ts.SetRole(ctx, "alice", operators.RoleViewer, "admin-token"); err != nil {
		t.Errorf("the same role again: %v", err)
	}
	if after := ts.counts(t); after != before {
		t.Errorf("refused requests changed the rows: %v, then %v", before, after)
	}
}

func TestPasswordsAreHashedWithArgon2idAtTheDefaultCost(t *testing.T) {
	ts := newStore(t)
	ts.Cost = operators.DefaultCost
	ts.create(t, "alice", operators.RoleViewer)
	var hash string
	if err := ts.db.Get(&hash, `SELECT password_hash FROM operators`); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(hash, password) {
		t.Errorf("stored hash %q", hash)
	}
	// A hash keeps its own cost: raising the cost signs no one out.
	ts.Cost = operators.Cost{MemoryKiB: 64, Passes: 1, Threads: 1}
	ts.login(t, "alice")
}

func TestRolesRankViewerBelowOperatorBelowAdmin(t *testing.T) {
	v, o, a := operators.RoleViewer, operators.RoleOperator, operators.RoleAdmin
	for _, c := range []struct {
		r, least operators.Role
		want     bool
	}{{v, v, true}, {v, o, false}, {o, v, true}, {o, a, false}, {a, o, true}, {a, a, true}, {"", v, false}, {"root", v, false}} {
		if got := c.r.AtLeast(c.least); got != c.want {
			t.Errorf("%q.AtLeast(%q) = %v", c.r, c.least, got)
		}
	}
}
