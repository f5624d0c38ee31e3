package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/app"
	"github.com/foyerhq/foyer/waitingroom"
)

// The operator's side of issue 17: every admin action and its line in the
// audit log are one unit, a refused or bad action changes nothing anywhere,
// and every field of a plan has a bound.

// saleRow is what Postgres keeps of a sale's plan that a control may change.
type saleRow struct {
	Stock   int     `db:"stock"`
	Outflow float64 `db:"outflow_per_second"`
	Pow     int     `db:"pow_difficulty"`
}

func (s *system) saleRow(t *testing.T, saleID string) saleRow {
	t.Helper()
	var r saleRow
	if err := s.DB.Get(&r, `SELECT stock, outflow_per_second, pow_difficulty FROM sales WHERE id = $1`, saleID); err != nil {
		t.Fatal(err)
	}
	return r
}

func (s *system) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB.Get(&n, query, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// expect sends a request and fails the test unless it gets status and code.
func (s *system) expect(t *testing.T, method, path string, body any, status int, code string) {
	t.Helper()
	var out struct{ Error struct{ Code string } }
	got := s.call(t, method, path, s.AdminToken, body, &out)
	if got != status || out.Error.Code != code {
		t.Errorf("%s %s %s: %d %q, want %d %q", method, path, body, got, out.Error.Code, status, code)
	}
}

// noMessage fails the test if the sale has an operator's message, which
// assertUnchanged would miss: the field is new, not changed.
func (s *system) noMessage(t *testing.T, saleID, what string) {
	t.Helper()
	if m := s.Redis.HGet(context.Background(), waitingroom.Keys(saleID).Meta, "message").Val(); m != "" {
		t.Errorf("%s reached shoppers: the sale's message is %q", what, m)
	}
}

// reconciled fails the test unless foyer reconcile finds the sale's two
// sides in agreement.
func (s *system) reconciled(t *testing.T, ctx context.Context, saleID string) {
	t.Helper()
	var report bytes.Buffer
	if err := app.Reconcile(ctx, s.cfg, saleID, false, &report); err != nil {
		t.Errorf("reconcile: %v\n%s", err, report.String())
	}
}

func TestARefusedControlChangesNothingAnywhere(t *testing.T) {
	sys := startSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ended := sys.createSale(t, map[string]any{"sku": "H-1", "name": "Stopped", "stock": 5, "outflow_per_second": 100})
	sys.admin(t, http.MethodPost, "/v1/admin/sales/"+ended+"/stop", nil, http.StatusOK)
	open := sys.createSale(t, map[string]any{"sku": "H-2", "name": "Open", "stock": 5, "outflow_per_second": 100})

	for _, saleID := range []string{ended, open} {
		before, row, audits := sys.snapshot(t, saleID), sys.saleRow(t, saleID), sys.count(t, `SELECT count(*) FROM admin_actions`)
		base := "/v1/admin/sales/" + saleID
		if saleID == ended {
			sys.expect(t, http.MethodPost, base+"/stock", map[string]any{"add": 5}, http.StatusConflict, "sale_ended")
			sys.expect(t, http.MethodPut, base+"/rate", map[string]any{"outflow_per_second": 50}, http.StatusConflict, "sale_ended")
			sys.expect(t, http.MethodPut, base+"/pow", map[string]any{"difficulty": 3}, http.StatusConflict, "sale_ended")
			sys.expect(t, http.MethodPost, base+"/messages", map[string]any{"text": "Too late"}, http.StatusConflict, "sale_ended")
			sys.expect(t, http.MethodPost, base+"/pause", nil, http.StatusConflict, "sale_ended")
		} else {
			sys.expect(t, http.MethodPost, base+"/resume", nil, http.StatusConflict, "bad_state")
		}
		sys.assertUnchanged(t, saleID, before, "a refused control")
		if after := sys.saleRow(t, saleID); after != row {
			t.Errorf("a refused control changed the plan in Postgres: %+v -> %+v", row, after)
		}
		if n := sys.count(t, `SELECT count(*) FROM admin_actions`); n != audits {
			t.Errorf("a refused control left %d rows in the audit log", n-audits)
		}
		sys.reconciled(t, ctx, saleID)
	}
}

func TestAControlCharacterInAnyAdminTextIsRefusedAndChangesNothing(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "H-3", "name": "Texts", "stock": 5})
	before, audits := sys.snapshot(t, saleID), sys.count(t, `SELECT count(*) FROM admin_actions`)

	sys.expect(t, http.MethodPost, "/v1/admin/sales/"+saleID+"/messages", map[string]any{"text": "Doors\x00open"},
		http.StatusUnprocessableEntity, "invalid_sale")
	sys.expect(t, http.MethodPost, "/v1/admin/sales/"+saleID+"/messages", map[string]any{"text": "Doors\nopen"},
		http.StatusUnprocessableEntity, "invalid_sale")
	for field, value := range map[string]string{"name": "Sneaker\x00", "sku": "S\x01", "currency": "EU\x00"} {
		body := map[string]any{"sku": "H-4", "name": "Texts", "stock": 5, field: value}
		sys.expect(t, http.MethodPost, "/v1/admin/sales", body, http.StatusUnprocessableEntity, "invalid_sale")
	}
	for _, entry := range []map[string]any{
		{"kind": "ip", "value": "203.0.113.7", "reason": "abuse\x00"},
		{"kind": "shopper", "value": "bot-1", "reason": "tab\tin it"},
		{"kind": "net", "value": "0.0.0.0/0", "reason": "everyone"},
		{"kind": "net", "value": "::/0", "reason": "everyone"},
	} {
		sys.expect(t, http.MethodPost, "/v1/admin/blocklist", entry, http.StatusUnprocessableEntity, "blocklist_entry_invalid")
	}

	sys.assertUnchanged(t, saleID, before, "a text with a control character")
	sys.noMessage(t, saleID, "a text with a control character")
	if n := sys.count(t, `SELECT count(*) FROM sales`); n != 1 {
		t.Errorf("%d sales, want the one made before the bad requests", n)
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions`); n != audits {
		t.Errorf("bad texts left %d rows in the audit log", n-audits)
	}
	var list struct{ Entries []any }
	sys.call(t, http.MethodGet, "/v1/admin/blocklist", sys.AdminToken, nil, &list)
	if len(list.Entries) != 0 {
		t.Errorf("bad entries are on the blocklist: %v", list.Entries)
	}
}

func TestHugeOrTinyNumbersInAdminRequestsAreRefusedNeverAFailure(t *testing.T) {
	sys := startSystem(t)
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	// 2^55 + 300 seconds wraps to 300 s when turned into a Duration.
	for _, c := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"sku":"N","name":"n","stock":1,"reservation_ttl_seconds":36028797018964268}`, 422, "invalid_sale"},
		{`{"sku":"N","name":"n","stock":1,"prequeue_seconds":36028797018963988}`, 422, "invalid_sale"},
		{`{"sku":"N","name":"n","stock":1,"price_cents":9223372036854775807}`, 422, "invalid_sale"},
		{`{"sku":"N","name":"n","stock":1,"outflow_per_second":1e-300}`, 422, "invalid_sale"},
		{`{"sku":"N","name":"n","stock":1,"currency":"eur"}`, 422, "invalid_sale"},
		{`{"sku":"N","name":"n","stock":1,"currency":"ABC"}`, 422, "invalid_sale"},
		{`{"sku":"N","name":"n","stock":1,"starts_at":"1970-01-01T00:00:00Z"}`, 422, "invalid_sale"},
		{`{"sku":"N","name":"n","stock":1,"starts_at":"2999-01-01T00:00:00Z","ends_at":"2999-01-02T00:00:00Z"}`, 422, "invalid_sale"},
		{`{"sku":"N","name":"` + string(bytes.Repeat([]byte("n"), 201)) + `","stock":1}`, 422, "invalid_sale"},
		{`{"sku":"N","name":"n","stock":1e300}`, 400, "bad_request"},
		{`{"sku":"N","name":"n","stock":1,"price_cents":1e30}`, 400, "bad_request"},
		{`{"sku":"N","name":"n","stock":1,"outflow_per_second":1e309}`, 400, "bad_request"},
	} {
		sys.expect(t, http.MethodPost, "/v1/admin/sales", raw(c.body), c.status, c.code)
	}
	if n := sys.count(t, `SELECT count(*) FROM sales`); n != 0 {
		t.Errorf("bad plans made %d sales", n)
	}

	saleID := sys.createSale(t, map[string]any{"sku": "H-5", "name": "Capped", "stock": 9_999_999})
	before, row := sys.snapshot(t, saleID), sys.saleRow(t, saleID)
	base := "/v1/admin/sales/" + saleID
	for _, c := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{http.MethodPost, "/stock", `{"add":2}`, 422, "invalid_sale"}, // 10,000,001: past the cap
		{http.MethodPost, "/stock", `{"add":9007199254740993}`, 422, "invalid_sale"},
		{http.MethodPost, "/stock", `{"add":1e20}`, 400, "bad_request"},
		{http.MethodPut, "/pow", `{"difficulty":1e300}`, 422, "invalid_sale"},
		{http.MethodPut, "/rate", `{"outflow_per_second":1e-300}`, 422, "invalid_sale"},
		{http.MethodPut, "/rate", `{"outflow_per_second":1e309}`, 400, "bad_request"},
	} {
		sys.expect(t, c.method, base+c.path, raw(c.body), c.status, c.code)
	}
	sys.assertUnchanged(t, saleID, before, "an out-of-bounds control")
	if after := sys.saleRow(t, saleID); after != row {
		t.Errorf("an out-of-bounds control changed the plan in Postgres: %+v -> %+v", row, after)
	}
	sys.admin(t, http.MethodPost, base+"/stock", map[string]any{"add": 1}, http.StatusOK) // to the cap exactly
}

// createWithKey creates a sale with an Idempotency-Key and returns the
// status, the sale's id and the error code.
func (s *system) createWithKey(t *testing.T, key string, body map[string]any) (int, string, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/admin/sales", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.AdminToken)
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		ID    string
		Error struct{ Code string }
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("decode %q: %v", raw, err)
	}
	return resp.StatusCode, out.ID, out.Error.Code
}

func TestCreatingASaleTwiceWithOneIdempotencyKeyMakesOneSale(t *testing.T) {
	sys := startSystem(t)
	plan := map[string]any{"sku": "H-6", "name": "Once", "stock": 5}
	status, first, _ := sys.createWithKey(t, "create-h6", plan)
	if status != http.StatusCreated || first == "" {
		t.Fatalf("first create: %d %q", status, first)
	}
	status, again, _ := sys.createWithKey(t, "create-h6", plan)
	if status != http.StatusCreated || again != first {
		t.Errorf("the retry: %d with sale %q, want 201 with the first sale %q", status, again, first)
	}
	other := map[string]any{"sku": "H-6", "name": "Once", "stock": 6}
	if status, _, code := sys.createWithKey(t, "create-h6", other); status != http.StatusUnprocessableEntity || code != "idempotency_key_reused" {
		t.Errorf("the key with another plan: %d %q, want 422 idempotency_key_reused", status, code)
	}
	if n := sys.count(t, `SELECT count(*) FROM sales`); n != 1 {
		t.Errorf("%d sales, want 1", n)
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions WHERE action = 'create'`); n != 1 {
		t.Errorf("%d creates in the audit log, want 1", n)
	}
	if status, second, _ := sys.createWithKey(t, "create-h6-b", plan); status != http.StatusCreated || second == first {
		t.Errorf("another key: %d with sale %q, want a new sale", status, second)
	}

	// Retries that race each other make one sale too.
	ids := make(chan string, 8)
	for range cap(ids) {
		go func() {
			b, _ := json.Marshal(plan)
			req, _ := http.NewRequest(http.MethodPost, sys.URL+"/v1/admin/sales", bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+sys.AdminToken)
			req.Header.Set("Idempotency-Key", "create-h6-race")
			var out struct{ ID string }
			if resp, err := http.DefaultClient.Do(req); err == nil {
				json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
			}
			ids <- out.ID
		}()
	}
	seen := map[string]bool{}
	for range cap(ids) {
		seen[<-ids] = true
	}
	if len(seen) != 1 || seen[""] {
		t.Errorf("racing retries of one key answered sales %v, want one", seen)
	}
	if n := sys.count(t, `SELECT count(*) FROM sales WHERE idempotency_key = 'create-h6-race'`); n != 1 {
		t.Errorf("racing retries of one key made %d sales", n)
	}
}

// failingPostgres installs, in the test's own database, a trigger that fails
// inserts into table: at once, or (deferred) at commit. Real Postgres
// refusing, for the paths no valid input reaches.
func (s *system) failingPostgres(t *testing.T, name, table string, atCommit bool) {
	t.Helper()
	stmts := []string{
		`CREATE FUNCTION ` + name + `() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'refused by the test'; END $$`,
	}
	if atCommit {
		stmts = append(stmts, `CREATE CONSTRAINT TRIGGER `+name+` AFTER INSERT ON `+table+
			` DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION `+name+`()`)
	} else {
		stmts = append(stmts, `CREATE TRIGGER `+name+` BEFORE INSERT ON `+table+` FOR EACH ROW EXECUTE FUNCTION `+name+`()`)
	}
	for _, q := range stmts {
		if _, err := s.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

func (s *system) healPostgres(t *testing.T, name, table string) {
	t.Helper()
	if _, err := s.DB.Exec(`DROP TRIGGER ` + name + ` ON ` + table + `; DROP FUNCTION ` + name + `()`); err != nil {
		t.Fatal(err)
	}
}

func TestAnAdminActionWhoseAuditOrCommitFailsTakesNoEffect(t *testing.T) {
	sys := startSystem(t)
	ctx := context.Background()
	saleID := sys.createSale(t, map[string]any{"sku": "H-7", "name": "Audited", "stock": 5})
	before, row := sys.snapshot(t, saleID), sys.saleRow(t, saleID)
	base := "/v1/admin/sales/" + saleID
	noNewSale := func(what string) {
		t.Helper()
		if n := sys.count(t, `SELECT count(*) FROM sales`); n != 1 {
			t.Errorf("%s: %d sales in Postgres, want only the first", what, n)
		}
		keys, _ := sys.Redis.Keys(ctx, "sale:*").Result()
		for _, k := range keys {
			if !bytes.Contains([]byte(k), []byte("{"+saleID+"}")) {
				t.Errorf("%s: a sale is left in Redis: %s", what, k)
			}
		}
		if ids := sys.Redis.SMembers(ctx, waitingroom.ActiveSales).Val(); len(ids) != 1 {
			t.Errorf("%s: active sales %v, want only the first", what, ids)
		}
	}

	// The audit row is refused as it is written.
	sys.failingPostgres(t, "refuse_audit", "admin_actions", false)
	sys.expect(t, http.MethodPost, "/v1/admin/sales", map[string]any{"sku": "H-8", "name": "Never", "stock": 5},
		http.StatusInternalServerError, "internal")
	noNewSale("a create whose audit failed")
	sys.expect(t, http.MethodPost, base+"/messages", map[string]any{"text": "Unrecorded"}, http.StatusInternalServerError, "internal")
	sys.expect(t, http.MethodPost, base+"/stock", map[string]any{"add": 3}, http.StatusInternalServerError, "internal")
	sys.expect(t, http.MethodPost, base+"/pause", nil, http.StatusInternalServerError, "internal")
	sys.expect(t, http.MethodPost, "/v1/admin/blocklist", map[string]any{"kind": "ip", "value": "203.0.113.9"},
		http.StatusInternalServerError, "internal")
	sys.healPostgres(t, "refuse_audit", "admin_actions")

	// The sale's row is refused at commit, after Redis was loaded.
	sys.failingPostgres(t, "refuse_sale_commit", "sales", true)
	sys.expect(t, http.MethodPost, "/v1/admin/sales", map[string]any{"sku": "H-9", "name": "Never", "stock": 5},
		http.StatusInternalServerError, "internal")
	noNewSale("a create whose commit failed")
	sys.healPostgres(t, "refuse_sale_commit", "sales")

	sys.assertUnchanged(t, saleID, before, "an action whose audit failed")
	sys.noMessage(t, saleID, "a message whose audit failed")
	if after := sys.saleRow(t, saleID); after != row {
		t.Errorf("an action whose audit failed changed the plan: %+v -> %+v", row, after)
	}
	var list struct{ Entries []any }
	sys.call(t, http.MethodGet, "/v1/admin/blocklist", sys.AdminToken, nil, &list)
	if len(list.Entries) != 0 {
		t.Errorf("a block whose audit failed is in force: %v", list.Entries)
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions`); n != 1 {
		t.Errorf("%d rows in the audit log, want the first create's only", n)
	}
	sys.reconciled(t, ctx, saleID)
}

func TestAnActionWhoseCommitFailsOnceIsRecordedByTheRetry(t *testing.T) {
	sys := startSystem(t)
	ctx := context.Background()
	saleID := sys.createSale(t, map[string]any{"sku": "H-10", "name": "Forward", "stock": 5})
	// The first commit with a new audit row fails; the ones after succeed.
	for _, q := range []string{
		`CREATE SEQUENCE audit_commits`,
		`CREATE FUNCTION fail_first_audit_commit() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF nextval('audit_commits') = 1 THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NULL; END $$`,
		`CREATE CONSTRAINT TRIGGER fail_first_audit_commit AFTER INSERT ON admin_actions
			DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_first_audit_commit()`,
	} {
		if _, err := sys.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	sys.admin(t, http.MethodPost, "/v1/admin/sales/"+saleID+"/stock", map[string]any{"add": 5}, http.StatusOK)
	if row := sys.saleRow(t, saleID); row.Stock != 10 {
		t.Errorf("postgres stock %d after adding 5 to 5", row.Stock)
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions WHERE action = 'add_stock' AND detail->>'state' = 'open'`); n != 1 {
		t.Errorf("%d add_stock rows with the state in the audit log, want 1", n)
	}
	sys.reconciled(t, ctx, saleID)

	if _, err := sys.DB.Exec(`ALTER SEQUENCE audit_commits RESTART`); err != nil {
		t.Fatal(err)
	}
	sys.admin(t, http.MethodPost, "/v1/admin/blocklist", map[string]any{"kind": "ip", "value": "203.0.113.10"}, http.StatusCreated)
	if n := sys.count(t, `SELECT count(*) FROM admin_actions WHERE action = 'block'`); n != 1 {
		t.Errorf("%d block rows in the audit log, want 1", n)
	}
}
