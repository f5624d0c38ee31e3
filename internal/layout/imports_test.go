package layout

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is the import path every package of Foyer starts with.
const module = "github.com/foyerhq/foyer"

// layers is the direction of imports, written down: a package may import
// the packages of lower layers only (and, where a layer says so, of its
// own). docs/architecture.md draws the same map. A package that is in no
// layer fails the test: a new package must be given its place.
var layers = []struct {
	name     string
	packages []string
	// sideways lists imports allowed within the layer, as "from -> to".
	sideways []string
}{
	{name: "leaves", packages: []string{
		"internal/clock", "internal/keyring", "internal/wire", "internal/orderstream", "internal/identity",
		"internal/defence/ratelimit", "internal/defence/blocklist", "internal/defence/pow",
		"internal/localservers", "internal/smallstacks", "internal/smallbuffers", "internal/csvcell", "internal/paging",
		"internal/pgtx", "internal/auditlog", "internal/redismetrics", "internal/opsport", "migrations", "web",
		"internal/gather",
	}, sideways: []string{"internal/defence/ratelimit -> internal/gather"}},
	{name: "the queue", packages: []string{"waitingroom"}},
	{name: "checkout", packages: []string{"checkout"}},
	{name: "payment providers", packages: []string{"internal/stripepay"}},
	{name: "orders", packages: []string{"worker"}},
	{name: "operators' views", packages: []string{"internal/livestats", "internal/reconcile", "internal/orders",
		"internal/shopkeys", "internal/webhooks", "internal/operators", "internal/salehistory",
		"internal/catalog", "internal/branding"},
		sideways: []string{"internal/salehistory -> internal/orders"}},
	{name: "transport", packages: []string{"internal/fanout", "server"},
		sideways: []string{"server -> internal/fanout"}},
	{name: "composition root", packages: []string{"internal/app"}},
	{name: "product binary", packages: []string{"cmd/foyer"}},
	{name: "clients and tooling", packages: []string{
		"internal/shopperclient", "internal/testenv", "internal/loadgen", "internal/bench",
		"cmd/shopper", "cmd/foyer-bench", "internal/layout",
		"examples/shop", "examples/shop/reservation", "examples/shop/cmd/shop",
		"clients/js/protocolgen", "clients/js/pagebundle",
	}, sideways: []string{
		"internal/loadgen -> internal/shopperclient", "internal/bench -> internal/shopperclient",
		"internal/bench -> internal/loadgen", "cmd/shopper -> internal/shopperclient",
		"cmd/foyer-bench -> internal/bench", "cmd/foyer-bench -> internal/loadgen",
		"cmd/foyer-bench -> internal/shopperclient",
		"examples/shop -> examples/shop/reservation", "examples/shop/cmd/shop -> examples/shop",
	}},
}

// forbidden are imports no layer order would catch: tooling reaching into
// the product's parts it must drive from outside, and the product's domain
// reaching for a transport library.
var forbidden = []struct{ from, to, why string }{
	{"internal/bench", "internal/app", "the bench starts the product's binary, it does not link it"},
	{"internal/loadgen", "internal/app", "the load generator speaks the protocol from outside"},
	{"internal/shopperclient", "server", "the Go client shares the wire package, not the server"},
}

// transportLibraries are what only the transport may import.
var transportLibraries = []string{"github.com/gin-gonic/gin", "github.com/coder/websocket"}

type listed struct {
	ImportPath string
	Imports    []string
}

func TestImportsRunInOneDirection(t *testing.T) {
	layerOf := map[string]int{}
	for i, l := range layers {
		for _, p := range l.packages {
			layerOf[p] = i
		}
	}
	for _, p := range goList(t) {
		from := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		fromLayer, placed := layerOf[from]
		if !placed {
			t.Errorf("%s is in no layer: give it its place in layers (and in docs/architecture.md)", from)
			continue
		}
		for _, imp := range p.Imports {
			if slices.Contains(transportLibraries, imp) && fromLayer < layerIndex("transport") {
				t.Errorf("%s imports %s: only the transport speaks HTTP and WebSocket", from, imp)
			}
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			to := strings.TrimPrefix(imp, module+"/")
			toLayer, ok := layerOf[to]
			switch {
			case !ok:
				continue // reported as the importer of nothing when its own turn comes
			case toLayer > fromLayer:
				t.Errorf("%s (%s) imports %s (%s): imports run from %s down, never up",
					from, layers[fromLayer].name, to, layers[toLayer].name, layers[fromLayer].name)
			case toLayer == fromLayer && !slices.Contains(layers[fromLayer].sideways, from+" -> "+to):
				t.Errorf("%s imports %s in its own layer (%s): allow it in sideways, or move one of them",
					from, to, layers[fromLayer].name)
			}
			for _, f := range forbidden {
				if f.from == from && f.to == to {
					t.Errorf("%s imports %s: %s", from, to, f.why)
				}
			}
		}
	}
}

// TestTheExamplesTalkToFoyerOnlyOverHTTP: the example shop is what a shop
// would write, so it imports nothing of Foyer but other examples.
func TestTheExamplesTalkToFoyerOnlyOverHTTP(t *testing.T) {
	for _, p := range goList(t) {
		from := strings.TrimPrefix(p.ImportPath, module+"/")
		if !strings.HasPrefix(from, "examples/") {
			continue
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module+"/") && !strings.HasPrefix(imp, module+"/examples/") {
				t.Errorf("%s imports %s: an example talks to Foyer over HTTP only", from, imp)
			}
		}
	}
}

// TestTheProductLinksNoTooling: what cmd/foyer links, transitively, holds
// none of the load and test tooling.
func TestTheProductLinksNoTooling(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", module+"/cmd/foyer").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, tool := range []string{"internal/bench", "internal/loadgen", "internal/shopperclient", "internal/testenv"} {
			if dep == module+"/"+tool {
				t.Errorf("the product binary links %s", tool)
			}
		}
	}
}

func layerIndex(name string) int {
	for i, l := range layers {
		if l.name == name {
			return i
		}
	}
	panic("no layer " + name)
}

// goList lists every package of the module with its imports (tests'
// imports left out: a test may reach across, as the end-to-end tests do).
func goList(t *testing.T) []listed {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []listed
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages; the test runs from the wrong place", len(pkgs))
	}
	return pkgs
}
