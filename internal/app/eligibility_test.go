package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// invitedSale creates a sale that admits only whom it invites, open at once
// and admitting nobody, so that places stay where joins put them.
func (s *system) invitedSale(t *testing.T) string {
	t.Helper()
	return s.createSale(t, map[string]any{"sku": "INV-1", "name": "Members' drop", "stock": 5,
		"outflow_per_second": stalled, "identity": "optional", "eligibility": "invited"})
}

// send makes an admin request with a raw body and returns its status, the
// error code (if any) and the body.
func (s *system) send(t *testing.T, method, path, contentType string, body []byte) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+s.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e struct{ Error struct{ Code string } }
	_ = json.Unmarshal(raw, &e)
	return resp.StatusCode, e.Error.Code, raw
}

// putInvitees uploads an invitee list and fails the test unless it is taken.
func (s *system) putInvitees(t *testing.T, saleID, csvBody string) {
	t.Helper()
	if status, code, raw := s.send(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/invitees", "text/csv", []byte(csvBody)); status != http.StatusOK {
		t.Fatalf("upload invitees: %d %s %s", status, code, raw)
	}
}

// inviteCodes makes n invite codes and returns them.
func (s *system) inviteCodes(t *testing.T, saleID string, n int) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/admin/sales/"+saleID+"/invite-codes",
		strings.NewReader(`{"count":`+strings.TrimSpace(string(mustJSON(n)))+`}`))
	req.Header.Set("Authorization", "Bearer "+s.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Cache-Control") != "no-store" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("invite codes: %d, Cache-Control %q, Content-Type %q", resp.StatusCode,
			resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || len(rows) != n+1 || rows[0][0] != "code" {
		t.Fatalf("invite codes CSV: %v (%v), want a header and %d codes", rows, err, n)
	}
	codes := make([]string, n)
	for i, r := range rows[1:] {
		codes[i] = r[0]
	}
	return codes
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

// outsider is the claims of a signed-in customer in no group.
func outsider(customer string) jwt.MapClaims {
	c := customerClaims(customer)
	delete(c, "groups")
	return c
}

// arriveWithInvite opens a sale's WebSocket as a new anonymous shopper
// joining at once with an invite code, in one request.
func arriveWithInvite(t *testing.T, ctx context.Context, sys *system, saleID, code string) *websocket.Conn {
	t.Helper()
	return arriveAt(t, ctx, sys.URL, saleID, "invite="+url.QueryEscape(code))
}

// arriveAt opens a sale's WebSocket on the node at base as a new shopper
// joining at once, with more query parameters.
func arriveAt(t *testing.T, ctx context.Context, base, saleID, query string) *websocket.Conn {
	t.Helper()
	u := "ws" + strings.TrimPrefix(base, "http") + "/v1/sales/" + saleID + "/ws?session=new&join=1&" + query
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

// expectPosition reads a raw socket's position, failing unless it is want.
func expectPosition(t *testing.T, ctx context.Context, ws *websocket.Conn, want int64, who string) {
	t.Helper()
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("%s: %v, want position %d", who, err, want)
		}
		var m shopperclient.Message
		_ = json.Unmarshal(data, &m)
		switch m.Type {
		case "position":
			if m.Position != want {
				t.Fatalf("%s: position %d, want %d", who, m.Position, want)
			}
			return
		case "error":
			t.Fatalf("%s: error %s (%s), want position %d", who, m.Code, m.Message, want)
		}
	}
}

// expectRefused reads a raw socket until an error, failing unless its code
// is not_eligible.
func expectNotEligible(t *testing.T, ctx context.Context, ws *websocket.Conn, who string) {
	t.Helper()
	m, err := readRaw(t, ctx, ws, "error")
	if err != nil || m.Code != "not_eligible" {
		t.Fatalf("%s: %q (%v), want not_eligible", who, m.Code, err)
	}
}

func TestAnInvitedSaleAdmitsItsCustomersItsGroupsAndOneShopperPerCodeAndRefusesTheRest(t *testing.T) {
	sys := startNodes(t, 1, withIdentitySecret())
	saleID := sys.invitedSale(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sys.putInvitees(t, saleID, "customer_id\nalice\nbob\n")

	alice := arriveWithIdentity(t, ctx, sys, saleID, signHS256(t, outsider("alice")))
	expectPosition(t, ctx, alice, 1, "a listed customer")
	// The same customer in a second browser: one place.
	aliceAgain := arriveWithIdentity(t, ctx, sys, saleID, signHS256(t, outsider("alice")))
	expectPosition(t, ctx, aliceAgain, 1, "the listed customer's second browser")

	snap := sys.snapshot(t, saleID)
	mallory := arriveWithIdentity(t, ctx, sys, saleID, signHS256(t, outsider("mallory")))
	expectNotEligible(t, ctx, mallory, "a customer not on the list")
	member := signHS256(t, customerClaims("dave")) // in the group members
	expectNotEligible(t, ctx, arriveWithIdentity(t, ctx, sys, saleID, member), "a member before the sale admits the group")
	sys.assertUnchanged(t, saleID, snap, "refused joins")

	if status := sys.call(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/groups", sys.AdminToken,
		map[string]any{"groups": []string{"members"}}, nil); status != http.StatusOK {
		t.Fatalf("set groups: %d", status)
	}
	expectPosition(t, ctx, arriveWithIdentity(t, ctx, sys, saleID, signHS256(t, customerClaims("dave"))), 2, "a member of an admitted group")

	codes := sys.inviteCodes(t, saleID, 2)
	expectPosition(t, ctx, arriveWithInvite(t, ctx, sys, saleID, codes[0]), 3, "an anonymous shopper with an unused code")
	// A second shopper with the same code, by a join message this time.
	snap = sys.snapshot(t, saleID)
	client := shopperclient.New(sys.URL)
	sess, err := client.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := client.Connect(ctx, saleID, sess)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	expectMessage(t, ctx, conn, "welcome")
	if err := conn.Send(ctx, map[string]string{"type": "join", "invite": codes[0]}); err != nil {
		t.Fatal(err)
	}
	if m := expectMessage(t, ctx, conn, "error"); m.Code != "not_eligible" || !strings.Contains(m.Message, "used") {
		t.Fatalf("a second shopper with a used code: %s (%s), want not_eligible", m.Code, m.Message)
	}
	sys.assertUnchanged(t, saleID, snap, "a used code")
	// The other code lets it in.
	if err := conn.Send(ctx, map[string]string{"type": "join", "invite": codes[1]}); err != nil {
		t.Fatal(err)
	}
	if m := expectMessage(t, ctx, conn, "position"); m.Position != 4 {
		t.Fatalf("the second code: position %d, want 4", m.Position)
	}

	// A new list replaces the old: bob is off it, erin on it; alice, off it
	// too, keeps the place she has.
	sys.putInvitees(t, saleID, "erin\n")
	_, _, csvBody := sys.send(t, http.MethodGet, "/v1/admin/sales/"+saleID+"/invitees.csv", "", nil)
	if string(csvBody) != "customer_id\nerin\n" {
		t.Errorf("the list after a new upload: %q", csvBody)
	}
	expectNotEligible(t, ctx, arriveWithIdentity(t, ctx, sys, saleID, signHS256(t, outsider("bob"))), "a customer the new list dropped")
	expectPosition(t, ctx, arriveWithIdentity(t, ctx, sys, saleID, signHS256(t, outsider("erin"))), 5, "a customer the new list added")
	expectPosition(t, ctx, arriveWithIdentity(t, ctx, sys, saleID, signHS256(t, outsider("alice"))), 1, "a waiting customer the new list dropped")

	var inv waitingroom.Invitations
	sys.call(t, http.MethodGet, "/v1/admin/sales/"+saleID+"/invitations", sys.AdminToken, nil, &inv)
	if inv.Invitees != 1 || inv.Codes != 2 || inv.CodesUsed != 2 || !slices.Equal(inv.Groups, []string{"members"}) {
		t.Errorf("the invitations' summary: %+v", inv)
	}
	// Each change is one action in the audit log.
	if n := sys.count(t, `SELECT count(*) FROM admin_actions WHERE sale_id = $1 AND action IN ('invitees', 'groups', 'invite_codes')`, saleID); n != 4 {
		t.Errorf("%d audited invitation actions, want 4", n)
	}
	if n := sys.count(t, `SELECT count(*) FROM sale_invite_codes WHERE sale_id = $1`, saleID); n != 2 {
		t.Errorf("%d invite codes in Postgres, want 2", n)
	}
	if n := sys.count(t, `SELECT count(*) FROM sale_invite_codes WHERE sale_id = $1 AND digest = sha256(convert_to($2, 'UTF8'))`, saleID, codes[0]); n != 1 {
		t.Errorf("the code is not kept as its SHA-256")
	}
}

func TestJoiningAnInvitedSaleNeedsNoPostgres(t *testing.T) {
	sys := startNodes(t, 1, withIdentitySecret())
	saleID := sys.invitedSale(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sys.putInvitees(t, saleID, "alice\n")
	code := sys.inviteCodes(t, saleID, 1)[0]

	// Every table of sales and invitations locked: a join that read one
	// would wait until the test's deadline.
	tx, err := sys.DB.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`LOCK TABLE sales, sale_invitees, sale_groups, sale_invite_codes IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	expectPosition(t, ctx, arriveWithIdentity(t, ctx, sys, saleID, signHS256(t, outsider("alice"))), 1, "a listed customer")
	expectPosition(t, ctx, arriveWithInvite(t, ctx, sys, saleID, code), 2, "a shopper with a code")
	expectNotEligible(t, ctx, arriveWithIdentity(t, ctx, sys, saleID, signHS256(t, outsider("mallory"))), "a customer not on the list")
}

// invitationState is everything a change of invitations could touch.
type invitationState struct {
	invited, groups []string
	invites         map[string]string
	rows, audit     int
}

func (s *system) invitationState(t *testing.T, saleID string) invitationState {
	t.Helper()
	ctx := context.Background()
	k := waitingroom.Keys(saleID)
	st := invitationState{
		invited: s.Redis.SMembers(ctx, k.Invited).Val(), groups: s.Redis.SMembers(ctx, k.Groups).Val(),
		invites: s.Redis.HGetAll(ctx, k.Invites).Val(),
		rows: s.count(t, `SELECT (SELECT count(*) FROM sale_invitees) + (SELECT count(*) FROM sale_groups)
			+ (SELECT count(*) FROM sale_invite_codes)`),
		audit: s.count(t, `SELECT count(*) FROM admin_actions`),
	}
	slices.Sort(st.invited)
	slices.Sort(st.groups)
	return st
}

func (st invitationState) equal(o invitationState) bool {
	return slices.Equal(st.invited, o.invited) && slices.Equal(st.groups, o.groups) &&
		len(st.invites) == len(o.invites) && st.rows == o.rows && st.audit == o.audit
}

func TestBadInvitationRequestsAreRefusedWithAClearCodeAndChangeNothing(t *testing.T) {
	sys := startNodes(t, 1, withIdentitySecret())
	saleID := sys.invitedSale(t)
	everyone := sys.createSale(t, map[string]any{"sku": "ALL-1", "name": "Open drop", "stock": 5, "outflow_per_second": stalled})
	sys.putInvitees(t, saleID, "alice\n")
	sys.inviteCodes(t, saleID, 1)
	before := sys.invitationState(t, saleID)
	snap := sys.snapshot(t, saleID)

	var many strings.Builder
	for i := range waitingroom.MaxInvitees + 1 {
		many.WriteString("c")
		many.WriteString(strings.Repeat("x", i%7))
		many.WriteString(string(mustJSON(i)))
		many.WriteString("\n")
	}
	invitees := "/v1/admin/sales/" + saleID + "/invitees"
	groups := "/v1/admin/sales/" + saleID + "/groups"
	codes := "/v1/admin/sales/" + saleID + "/invite-codes"
	for _, tc := range []struct {
		name, method, path, contentType, body string
		status                                int
		code                                  string
	}{
		{"a list sent as JSON", http.MethodPut, invitees, "application/json", `["alice"]`, 422, "invitations_invalid"},
		{"a row of two columns", http.MethodPut, invitees, "text/csv", "alice\nbob,carol\n", 422, "invitations_invalid"},
		{"an open quote", http.MethodPut, invitees, "text/csv", "alice\n\"bob\n", 422, "invitations_invalid"},
		{"a control character", http.MethodPut, invitees, "text/csv", "alice\nbo\x07b\n", 422, "invitations_invalid"},
		{"an id of 129 characters", http.MethodPut, invitees, "text/csv", strings.Repeat("a", 129) + "\n", 422, "invitations_invalid"},
		{"100,001 customers", http.MethodPut, invitees, "text/csv", many.String(), 422, "invitations_invalid"},
		{"a body over 4 MiB", http.MethodPut, invitees, "text/csv", strings.Repeat("abcdefg\n", 4<<20/8+1), 413, "too_large"},
		{"an unknown sale", http.MethodPut, "/v1/admin/sales/s_nosuchsale/invitees", "text/csv", "alice\n", 404, "sale_not_found"},
		{"a sale open to everyone", http.MethodPut, "/v1/admin/sales/" + everyone + "/invitees", "text/csv", "alice\n", 422, "invitations_invalid"},
		{"groups that are not JSON", http.MethodPut, groups, "application/json", `members`, 400, "bad_request"},
		{"no groups field", http.MethodPut, groups, "application/json", `{}`, 422, "invitations_invalid"},
		{"a group with a space", http.MethodPut, groups, "application/json", `{"groups":["vip members"]}`, 422, "invitations_invalid"},
		{"a group twice", http.MethodPut, groups, "application/json", `{"groups":["a","a"]}`, 422, "invitations_invalid"},
		{"groups of an unknown sale", http.MethodPut, "/v1/admin/sales/s_nosuchsale/groups", "application/json", `{"groups":[]}`, 404, "sale_not_found"},
		{"no codes", http.MethodPost, codes, "application/json", `{"count":0}`, 422, "invitations_invalid"},
		{"10,001 codes", http.MethodPost, codes, "application/json", `{"count":10001}`, 422, "invitations_invalid"},
		{"a count of minus one", http.MethodPost, codes, "application/json", `{"count":-1}`, 422, "invitations_invalid"},
		{"a count that is text", http.MethodPost, codes, "application/json", `{"count":"5"}`, 400, "bad_request"},
		{"codes of a sale open to everyone", http.MethodPost, "/v1/admin/sales/" + everyone + "/invite-codes", "application/json", `{"count":1}`, 422, "invitations_invalid"},
		{"the list of an unknown sale", http.MethodGet, "/v1/admin/sales/s_nosuchsale/invitees.csv", "", "", 404, "sale_not_found"},
	} {
		status, code, raw := sys.send(t, tc.method, tc.path, tc.contentType, []byte(tc.body))
		if status != tc.status || code != tc.code {
			t.Errorf("%s: %d %q (%.200s), want %d %q", tc.name, status, code, raw, tc.status, tc.code)
		}
		if after := sys.invitationState(t, saleID); !after.equal(before) {
			t.Errorf("%s changed the invitations: %+v -> %+v", tc.name, before, after)
		}
	}

	// A shopper's bad invite code: refused before the upgrade, or as a bad message.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, bad := range []string{"not a code", strings.Repeat("A", 65), "code\x00"} {
		u := "ws" + strings.TrimPrefix(sys.URL, "http") + "/v1/sales/" + saleID + "/ws?session=new&join=1&invite=" + url.QueryEscape(bad)
		_, resp, err := websocket.Dial(ctx, u, nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("invite=%q: %v, want 400 before the upgrade", bad, err)
		}
		client := shopperclient.New(sys.URL)
		sess, err := client.NewSession(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := client.Connect(ctx, saleID, sess)
		if err != nil {
			t.Fatal(err)
		}
		expectMessage(t, ctx, conn, "welcome")
		conn.Send(ctx, map[string]string{"type": "join", "invite": bad})
		if m := expectMessage(t, ctx, conn, "error"); m.Code != "bad_message" {
			t.Errorf("a join message with invite %q: %s, want bad_message", bad, m.Code)
		}
		conn.CloseNow()
	}
	sys.assertUnchanged(t, saleID, snap, "bad invitation requests")
	if after := sys.invitationState(t, saleID); !after.equal(before) {
		t.Errorf("bad invite codes changed the invitations")
	}
}

func TestAGatewayThatStartsPutsAnInvitedSalesListsBackFromPostgresAndKeepsTheCodesRedisSpent(t *testing.T) {
	sys := startNodes(t, 1, withIdentitySecret())
	saleID := sys.invitedSale(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sys.putInvitees(t, saleID, "alice\n")
	sys.call(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/groups", sys.AdminToken, map[string]any{"groups": []string{"members"}}, nil)
	codes := sys.inviteCodes(t, saleID, 3)
	expectPosition(t, ctx, arriveWithInvite(t, ctx, sys, saleID, codes[0]), 1, "a shopper with a code")
	// The dashboard's summary records the use in Postgres.
	var inv waitingroom.Invitations
	sys.call(t, http.MethodGet, "/v1/admin/sales/"+saleID+"/invitations", sys.AdminToken, nil, &inv)
	if n := sys.count(t, `SELECT count(*) FROM sale_invite_codes WHERE sale_id = $1 AND used_by LIKE 'v\_%' AND used_at IS NOT NULL`, saleID); inv.CodesUsed != 1 || n != 1 {
		t.Fatalf("%d codes used by the summary, %d recorded in Postgres; want 1 and 1", inv.CodesUsed, n)
	}
	// A code spent after it, which only Redis knows of, stays spent when a
	// gateway starts and puts Postgres's lists back.
	expectPosition(t, ctx, arriveWithInvite(t, ctx, sys, saleID, codes[2]), 2, "a shopper with another code")
	again := sys.startGateway(t, "node-again")
	expectNotEligible(t, ctx, arriveAt(t, ctx, again.URL, saleID, "invite="+codes[2]), "a second shopper with a code only Redis knows was spent")

	if err := sys.Redis.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	node := sys.startGateway(t, "node-restarted") // loads the current sales again
	identity := func(claims jwt.MapClaims) string { return "identity=" + url.QueryEscape(signHS256(t, claims)) }
	expectPosition(t, ctx, arriveAt(t, ctx, node.URL, saleID, identity(outsider("alice"))), 1, "a listed customer")
	expectPosition(t, ctx, arriveAt(t, ctx, node.URL, saleID, identity(customerClaims("dave"))), 2, "a member")
	expectNotEligible(t, ctx, arriveAt(t, ctx, node.URL, saleID, "invite="+codes[0]), "another shopper with the spent code")
	expectNotEligible(t, ctx, arriveAt(t, ctx, node.URL, saleID, identity(outsider("mallory"))), "a customer not on the list")
	expectPosition(t, ctx, arriveAt(t, ctx, node.URL, saleID, "invite="+codes[1]), 3, "a shopper with the unused code")
}

func TestAListOfAHundredThousandCustomersIsTakenWholeInPostgresAndRedis(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.invitedSale(t)
	var list strings.Builder
	list.WriteString("customer_id\r\n")
	for i := range waitingroom.MaxInvitees {
		list.WriteString("customer-" + string(mustJSON(i)) + "@example.com\r\n")
	}
	start := time.Now()
	sys.putInvitees(t, saleID, list.String())
	t.Logf("%d customers (%d bytes) taken in %v", waitingroom.MaxInvitees, list.Len(), time.Since(start))
	if n := sys.count(t, `SELECT count(*) FROM sale_invitees WHERE sale_id = $1`, saleID); n != waitingroom.MaxInvitees {
		t.Errorf("%d customers in Postgres, want %d", n, waitingroom.MaxInvitees)
	}
	if n := sys.Redis.SCard(context.Background(), waitingroom.Keys(saleID).Invited).Val(); n != waitingroom.MaxInvitees {
		t.Errorf("%d shoppers in Redis, want %d", n, waitingroom.MaxInvitees)
	}
	sys.putInvitees(t, saleID, "alice\n") // and replaced by a short one
	if n := sys.Redis.SCard(context.Background(), waitingroom.Keys(saleID).Invited).Val(); n != 1 {
		t.Errorf("%d shoppers in Redis after a new list of one", n)
	}
}

// A shop's customer id may start as a spreadsheet formula does: the
// download defuses it (csvcell), and reads back as the same list.
func TestAnInviteeListDownloadsWithFormulasDefusedAndUploadsBackUnchanged(t *testing.T) {
	sys := startNodes(t, 1, withIdentitySecret())
	saleID := sys.invitedSale(t)
	sys.putInvitees(t, saleID, "customer_id\n\"=HYPERLINK(\"\"http://evil\"\")\"\n+4470\n-5\n@SUM(A1)\nalice\n")
	_, _, body := sys.send(t, http.MethodGet, "/v1/admin/sales/"+saleID+"/invitees.csv", "", nil)
	want := "customer_id\n\"'=HYPERLINK(\"\"http://evil\"\")\"\n'+4470\n'-5\n'@SUM(A1)\nalice\n"
	if string(body) != want {
		t.Fatalf("the download reads %q, want every formula behind a ': %q", body, want)
	}
	listed := func() []string {
		var ids []string
		if err := sys.DB.Select(&ids, `SELECT customer_id FROM sale_invitees WHERE sale_id = $1 ORDER BY position`, saleID); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	before := listed()
	sys.putInvitees(t, saleID, string(body))
	if after := listed(); !slices.Equal(after, before) || after[1] != "+4470" {
		t.Errorf("the download sent back lists %q, want the list it came from, %q", after, before)
	}
}
