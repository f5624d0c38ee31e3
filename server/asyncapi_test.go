package server

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"gopkg.in/yaml.v3"

	"github.com/foyerhq/foyer/internal/fanout"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// These tests keep docs/asyncapi.yaml, the machine-readable shopper protocol,
// true to the code: every message type both ways, every field of every server
// message, the error codes, the close codes and the sale states.

const asyncAPIPath = "../docs/asyncapi.yaml"

// asyncAPI is the document parsed into generic maps, with $ref resolution.
type asyncAPI struct {
	t    *testing.T
	root map[string]any
}

func loadAsyncAPI(t *testing.T) *asyncAPI {
	t.Helper()
	data, err := os.ReadFile(asyncAPIPath)
	if err != nil {
		t.Fatalf("read %s: %v", asyncAPIPath, err)
	}
	var root map[string]any
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatalf("parse %s: %v", asyncAPIPath, err)
	}
	return &asyncAPI{t: t, root: root}
}

// pointer finds a local reference such as '#/components/messages/position'.
func (d *asyncAPI) pointer(ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("only local references are followed, not %q", ref)
	}
	var node any = d.root
	for _, part := range strings.Split(ref[2:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		switch n := node.(type) {
		case map[string]any:
			next, ok := n[part]
			if !ok {
				return nil, fmt.Errorf("%s: no %q", ref, part)
			}
			node = next
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(n) {
				return nil, fmt.Errorf("%s: no index %q", ref, part)
			}
			node = n[i]
		default:
			return nil, fmt.Errorf("%s: cannot descend into %T at %q", ref, node, part)
		}
	}
	return node, nil
}

// deref follows $ref until it reaches an object without one. It returns the
// object and every reference followed, in order.
func (d *asyncAPI) deref(node any) (map[string]any, []string) {
	d.t.Helper()
	var refs []string
	for range 32 {
		m, ok := node.(map[string]any)
		if !ok {
			d.t.Fatalf("expected an object after %v, got %T", refs, node)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, refs
		}
		refs = append(refs, ref)
		next, err := d.pointer(ref)
		if err != nil {
			d.t.Fatal(err)
		}
		node = next
	}
	d.t.Fatalf("reference loop: %v", refs)
	return nil, nil
}

// obj is the object at key of m, dereferenced; nil if absent.
func (d *asyncAPI) obj(m map[string]any, key string) map[string]any {
	d.t.Helper()
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	o, _ := d.deref(v)
	return o
}

// asyncList is the list at key of m; nil if absent.
func asyncList(m map[string]any, key string) []any {
	l, _ := m[key].([]any)
	return l
}

func asyncStrs(l []any) []string {
	out := make([]string, 0, len(l))
	for _, v := range l {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// docMessage is a message of the document, as an operation names it.
type docMessage struct {
	id      string // its key under components.messages, if it is one
	typ     string // payload.properties.type.const
	message map[string]any
}

// message resolves an operation's message reference, such as
// '#/channels/shopper/messages/position', to the message it names.
func (d *asyncAPI) message(ref any) docMessage {
	d.t.Helper()
	m, refs := d.deref(ref)
	dm := docMessage{message: m}
	for _, r := range refs {
		if id, ok := strings.CutPrefix(r, "#/components/messages/"); ok {
			dm.id = id
		}
	}
	payload := d.obj(m, "payload")
	if payload == nil {
		d.t.Fatalf("message %v has no payload", refs)
	}
	typ := d.obj(d.obj(payload, "properties"), "type")
	c, ok := typ["const"].(string)
	if !ok {
		d.t.Fatalf("message %v: payload.properties.type has no const", refs)
	}
	dm.typ = c
	return dm
}

// directions sorts the document's messages by who sends them. The document
// describes the server: it sends what its send operations carry (and the
// replies of its receive operations), and receives the rest.
func (d *asyncAPI) directions() (sent, received map[string][]docMessage) {
	d.t.Helper()
	sent, received = map[string][]docMessage{}, map[string][]docMessage{}
	add := func(to map[string][]docMessage, refs []any) {
		for _, ref := range refs {
			m := d.message(ref)
			to[m.typ] = append(to[m.typ], m)
		}
	}
	ops := d.obj(d.root, "operations")
	if len(ops) == 0 {
		d.t.Fatal("no operations")
	}
	for name := range ops {
		op := d.obj(ops, name)
		var out, in map[string][]docMessage
		switch op["action"] {
		case "send":
			out, in = sent, received
		case "receive":
			out, in = received, sent
		default:
			d.t.Fatalf("operation %s: action %v", name, op["action"])
		}
		if len(asyncList(op, "messages")) == 0 {
			d.t.Errorf("operation %s names no messages", name)
		}
		add(out, asyncList(op, "messages"))
		if reply := d.obj(op, "reply"); reply != nil {
			add(in, asyncList(reply, "messages"))
		}
	}
	return sent, received
}

func asyncKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestAsyncAPIDocument(t *testing.T) {
	d := loadAsyncAPI(t)
	if v, _ := d.root["asyncapi"].(string); v != "3.0.0" {
		t.Errorf("asyncapi = %v, want 3.0.0", d.root["asyncapi"])
	}
	if v := fmt.Sprint(d.obj(d.root, "info")["version"]); v != "1" {
		t.Errorf("info.version = %s, want 1 (the protocol's version)", v)
	}
	servers := d.obj(d.root, "servers")
	if len(servers) == 0 {
		t.Error("no servers")
	}
	for name := range servers {
		if p := d.obj(servers, name)["protocol"]; p != "wss" {
			t.Errorf("server %s: protocol %v, want wss", name, p)
		}
	}
	channels := d.obj(d.root, "channels")
	if len(channels) != 1 {
		t.Fatalf("channels: %v, want the one shopper channel", asyncKeys(channels))
	}
	for name := range channels {
		ch := d.obj(channels, name)
		if ch["address"] != "/v1/sales/{saleId}/ws" {
			t.Errorf("channel %s: address %v", name, ch["address"])
		}
		if d.obj(d.obj(ch, "parameters"), "saleId") == nil {
			t.Errorf("channel %s: no saleId parameter", name)
		}
		ws := d.obj(d.obj(ch, "bindings"), "ws")
		if d.obj(d.obj(d.obj(ws, "query"), "properties"), "session") == nil {
			t.Errorf("channel %s: the ws binding's query does not describe session", name)
		}
		proto := d.obj(d.obj(d.obj(ws, "headers"), "properties"), "Sec-WebSocket-Protocol")
		if proto["const"] != wire.Subprotocol {
			t.Errorf("channel %s: Sec-WebSocket-Protocol is %v, want %s", name, proto["const"], wire.Subprotocol)
		}
	}
}

func TestAsyncAPIMessageTypes(t *testing.T) {
	d := loadAsyncAPI(t)
	sent, received := d.directions()
	check := func(what string, documented map[string][]docMessage, code []string) {
		t.Helper()
		for _, typ := range code {
			if len(documented[typ]) == 0 {
				t.Errorf("%s %q is in the code but not in %s", what, typ, asyncAPIPath)
			}
		}
		for _, typ := range asyncKeys(documented) {
			if !slices.Contains(code, typ) {
				t.Errorf("%s %q is documented but unknown to the code", what, typ)
			}
		}
	}
	check("the server sends", sent, wire.ServerMessageTypes)
	check("the server receives", received, wire.ClientMessageTypes)

	// Every message of the components is used by an operation, and is
	// complete: a name equal to its type, a title, a summary, examples.
	used := map[string]bool{}
	for _, byType := range []map[string][]docMessage{sent, received} {
		for _, group := range byType {
			for _, m := range group {
				used[m.id] = true
			}
		}
	}
	components := d.obj(d.obj(d.root, "components"), "messages")
	for _, id := range asyncKeys(components) {
		if !used[id] {
			t.Errorf("components.messages.%s: no operation sends or receives it", id)
		}
		m := d.message(components[id])
		if m.message["name"] != m.typ {
			t.Errorf("message %s: name %v, want its type %q", id, m.message["name"], m.typ)
		}
		for _, field := range []string{"title", "summary"} {
			if s, _ := m.message[field].(string); s == "" {
				t.Errorf("message %s: no %s", id, field)
			}
		}
		examples := asyncList(m.message, "examples")
		if len(examples) == 0 {
			t.Errorf("message %s: no example", id)
		}
		payload := d.obj(m.message, "payload")
		for i, ex := range examples {
			got, _ := d.deref(ex)
			p, ok := got["payload"].(map[string]any)
			if !ok {
				t.Errorf("message %s: example %d has no payload", id, i)
				continue
			}
			if p["type"] != m.typ {
				t.Errorf("message %s: example %d has type %v, want %q", id, i, p["type"], m.typ)
			}
			for _, problem := range d.validate(payload, p, "payload") {
				t.Errorf("message %s: example %d: %s", id, i, problem)
			}
		}
	}
}

// validate checks a value against the subset of JSON Schema the document
// uses (type, const, enum, required, properties, minimum), and reports every
// property it does not describe.
func (d *asyncAPI) validate(schema map[string]any, v any, path string) []string {
	var problems []string
	if c, ok := schema["const"]; ok && fmt.Sprint(c) != fmt.Sprint(v) {
		problems = append(problems, fmt.Sprintf("%s = %v, want %v", path, v, c))
	}
	if enum := asyncList(schema, "enum"); enum != nil && !slices.Contains(asyncStrs(enum), fmt.Sprint(v)) {
		problems = append(problems, fmt.Sprintf("%s = %v, not one of %v", path, v, enum))
	}
	switch schema["type"] {
	case "object":
		o, ok := v.(map[string]any)
		if !ok {
			return append(problems, fmt.Sprintf("%s is %T, want an object", path, v))
		}
		for _, r := range asyncStrs(asyncList(schema, "required")) {
			if _, ok := o[r]; !ok {
				problems = append(problems, fmt.Sprintf("%s lacks required %s", path, r))
			}
		}
		props := d.obj(schema, "properties")
		for _, k := range asyncKeys(o) {
			if _, ok := props[k]; !ok {
				problems = append(problems, fmt.Sprintf("%s.%s is not documented", path, k))
				continue
			}
			problems = append(problems, d.validate(d.obj(props, k), o[k], path+"."+k)...)
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			return append(problems, fmt.Sprintf("%s is %T, want a string", path, v))
		}
		if schema["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", path, err))
			}
		}
	case "integer":
		n, ok := v.(int)
		if !ok {
			return append(problems, fmt.Sprintf("%s is %T, want an integer", path, v))
		}
		if lo, ok := schema["minimum"].(int); ok && n < lo {
			problems = append(problems, fmt.Sprintf("%s = %d, below the minimum %d", path, n, lo))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			problems = append(problems, fmt.Sprintf("%s is %T, want a boolean", path, v))
		}
	case "array":
		items, ok := v.([]any)
		if !ok {
			return append(problems, fmt.Sprintf("%s is %T, want an array", path, v))
		}
		if most, ok := schema["maxItems"].(int); ok && len(items) > most {
			problems = append(problems, fmt.Sprintf("%s has %d items, above maxItems %d", path, len(items), most))
		}
		item, _ := d.deref(d.obj(schema, "items"))
		for i, it := range items {
			problems = append(problems, d.validate(item, it, fmt.Sprintf("%s[%d]", path, i))...)
		}
	default:
		problems = append(problems, fmt.Sprintf("%s: schema type %v is not checked here", path, schema["type"]))
	}
	return problems
}

// asyncServerStructs is the Go struct each server message is encoded from.
var asyncServerStructs = map[string]any{
	wire.MsgWelcome:  welcomeMsg{},
	wire.MsgTime:     timeMsg{},
	wire.MsgPrequeue: fanout.PrequeueMsg{},
	wire.MsgPosition: fanout.PositionMsg{},
	wire.MsgStock:    fanout.StockMsg{},
	wire.MsgState:    fanout.StateMsg{},
	wire.MsgAdmitted: fanout.AdmittedMsg{},
	wire.MsgExpired:  fanout.ExpiredMsg{},
	wire.MsgOrder:    fanout.OrderMsg{},
	wire.MsgSoldOut:  fanout.SoldOutMsg{},
	wire.MsgError:    errorMsg{},
	wire.MsgPong:     pongMsg{},
	wire.MsgNotice:   fanout.NoticeMsg{},
	wire.MsgLeft:     fanout.LeftMsg{},
}

// asyncNeverSent are struct fields the document leaves out because the code never
// fills them in that place.
var asyncNeverSent = map[string]string{
	"welcome.sale.stock.type":     "viewOf leaves the stock's type empty",
	"welcome.sale.stock.all_held": "viewOf never sets all_held; the stock message carries it",
	"welcome.sale.stock.products": "viewOf leaves them out; the sale's products carry their left",
	"welcome.sale.products.sold":  "only the admin sale JSON tells a product's sold",
}

// TestAsyncAPIPayloadsMatchStructs compares every server message's schema
// with the struct it is encoded from: the same fields, of the same JSON
// types, required exactly when they are not omitempty.
func TestAsyncAPIPayloadsMatchStructs(t *testing.T) {
	d := loadAsyncAPI(t)
	sent, received := d.directions()
	for _, typ := range wire.ServerMessageTypes {
		v, ok := asyncServerStructs[typ]
		if !ok {
			t.Errorf("server message %q: add its struct to asyncServerStructs", typ)
			continue
		}
		for _, m := range sent[typ] {
			payload := d.obj(m.message, "payload")
			d.compare(payload, reflect.TypeOf(v), typ)
			if !slices.Contains(asyncStrs(asyncList(payload, "required")), "type") {
				t.Errorf("%s: type is not required", typ)
			}
		}
	}
	// Client messages: the server reads them into wire.ClientMsg, so a field the
	// document gives them must be one wire.ClientMsg has.
	fields := map[string]reflect.StructField{}
	for _, f := range asyncJSONFields(reflect.TypeOf(wire.ClientMsg{})) {
		fields[f.name] = f.StructField
	}
	for typ, ms := range received {
		for _, m := range ms {
			payload := d.obj(m.message, "payload")
			props := d.obj(payload, "properties")
			for _, name := range asyncKeys(props) {
				f, ok := fields[name]
				if !ok {
					t.Errorf("client message %s: %s is documented but wire.ClientMsg does not read it", typ, name)
					continue
				}
				d.compare(d.obj(props, name), f.Type, typ+"."+name)
			}
			if !slices.Contains(asyncStrs(asyncList(payload, "required")), "type") {
				t.Errorf("client message %s: type is not required", typ)
			}
		}
	}
}

type asyncJSONField struct {
	reflect.StructField
	name      string
	omitempty bool
}

func asyncJSONFields(typ reflect.Type) []asyncJSONField {
	var out []asyncJSONField
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		out = append(out, asyncJSONField{f, name, slices.Contains(strings.Split(opts, ","), "omitempty")})
	}
	return out
}

var asyncTimeType = reflect.TypeOf(time.Time{})

// compare checks schema against the Go type values of it are encoded from.
func (d *asyncAPI) compare(schema map[string]any, typ reflect.Type, path string) {
	t := d.t
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	want := map[reflect.Kind]string{
		reflect.String: "string", reflect.Bool: "boolean",
		reflect.Int: "integer", reflect.Int32: "integer", reflect.Int64: "integer",
		reflect.Float64: "number", reflect.Struct: "object", reflect.Slice: "array",
	}[typ.Kind()]
	if typ == asyncTimeType {
		want = "string"
		if schema["format"] != "date-time" {
			t.Errorf("%s: a time, but format is %v, not date-time", path, schema["format"])
		}
	}
	if schema["type"] != want {
		t.Errorf("%s: schema type %v, want %s (Go %s)", path, schema["type"], want, typ)
		return
	}
	if want == "array" {
		item, _ := d.deref(d.obj(schema, "items"))
		d.compare(item, typ.Elem(), path)
		return
	}
	if want != "object" {
		return
	}
	props := d.obj(schema, "properties")
	required := asyncStrs(asyncList(schema, "required"))
	seen := map[string]bool{}
	for _, f := range asyncJSONFields(typ) {
		fp := path + "." + f.name
		seen[f.name] = true
		if _, skip := asyncNeverSent[fp]; skip {
			if _, ok := props[f.name]; ok {
				t.Errorf("%s is documented, but %s", fp, asyncNeverSent[fp])
			}
			continue
		}
		p, ok := props[f.name]
		if !ok {
			t.Errorf("%s: in the Go struct but not documented", fp)
			continue
		}
		// The server always sets a message's type, omitempty or not.
		mustRequire := !f.omitempty || !strings.Contains(path, ".") && f.name == "type"
		if isRequired := slices.Contains(required, f.name); isRequired != mustRequire {
			t.Errorf("%s: required is %v, want %v (omitempty: %v)", fp, isRequired, mustRequire, f.omitempty)
		}
		sub, _ := d.deref(p)
		d.compare(sub, f.Type, fp)
	}
	for _, name := range asyncKeys(props) {
		if !seen[name] {
			t.Errorf("%s.%s: documented but not in the Go struct %s", path, name, typ)
		}
	}
	for _, name := range required {
		if !seen[name] {
			t.Errorf("%s: requires %s, which the Go struct %s lacks", path, name, typ)
		}
	}
}

func TestAsyncAPIErrorCodes(t *testing.T) {
	d := loadAsyncAPI(t)
	sent, _ := d.directions()
	if len(sent[wire.MsgError]) == 0 {
		t.Fatal("no error message is sent")
	}
	codes := []string{internalProblem.code}
	for _, p := range problems {
		codes = append(codes, p.code)
	}
	for _, m := range sent[wire.MsgError] {
		code := d.obj(d.obj(d.obj(m.message, "payload"), "properties"), "code")
		enum := asyncStrs(asyncList(code, "enum"))
		for _, c := range codes {
			if !slices.Contains(enum, c) {
				t.Errorf("error code %q is in the problems table but not in error.code's enum", c)
			}
		}
		for _, c := range enum {
			if !slices.Contains(codes, c) {
				t.Errorf("error.code's enum has %q, which the problems table does not", c)
			}
		}
	}
}

func TestAsyncAPICloseCodes(t *testing.T) {
	d := loadAsyncAPI(t)
	info := d.obj(d.root, "info")
	entries := asyncList(info, "x-close-codes")
	documented := map[int]bool{}
	for i, e := range entries {
		m, _ := d.deref(e)
		code, ok := m["code"].(int)
		if !ok {
			t.Errorf("x-close-codes[%d]: code %v is not a number", i, m["code"])
			continue
		}
		documented[code] = true
		for _, field := range []string{"meaning", "client"} {
			if s, _ := m[field].(string); s == "" {
				t.Errorf("x-close-code %d: no %s", code, field)
			}
		}
		desc, _ := info["description"].(string)
		if !strings.Contains(desc, fmt.Sprintf("| %d |", code)) {
			t.Errorf("close code %d is in x-close-codes but not in the description's table", code)
		}
	}
	// Every close code the server uses, and the one the protocol reserves
	// (too slow: the server drops such a client without a close frame).
	for _, code := range []websocket.StatusCode{
		websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusMessageTooBig,
		websocket.StatusInternalError, websocket.StatusTryAgainLater, wire.CloseSessionInvalid, wire.CloseUnsupportedVersion, wire.CloseBlocked, wire.CloseSaleNotFound,
		wire.CloseTooSlow, wire.CloseIdle,
	} {
		if !documented[int(code)] {
			t.Errorf("close code %d is used by the server but not in x-close-codes", code)
		}
	}
}

func TestAsyncAPISaleStates(t *testing.T) {
	d := loadAsyncAPI(t)
	states := d.obj(d.obj(d.root, "components"), "schemas")["saleState"]
	got, _ := d.deref(states)
	want := []waitingroom.State{waitingroom.StateScheduled, waitingroom.StatePrequeue, waitingroom.StateOpen,
		waitingroom.StatePaused, waitingroom.StateSoldOut, waitingroom.StateEnded}
	if enum := asyncStrs(asyncList(got, "enum")); !slices.Equal(enum, asyncStrs(asyncAnys(want))) {
		t.Errorf("saleState enum = %v, want %v", enum, want)
	}
}

func asyncAnys[T any](l []T) []any {
	out := make([]any, len(l))
	for i, v := range l {
		out[i] = v
	}
	return out
}
