package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTheProductBinaryCarriesNoTooling lists what `foyer` is built from: the
// bench, the load generator and the Go shopper client are foyer-bench's, and
// no package of Foyer's own reads Prometheus's text format (the load
// generator's scraper did; client_golang still uses expfmt to serve
// /metrics, which is the product's). They used to be linked into foyer.
func TestTheProductBinaryCarriesNoTooling(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	tooling := []string{"internal/bench", "internal/loadgen", "internal/shopperclient"}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		for _, name := range tooling {
			if pkg == "github.com/foyerhq/foyer/"+name {
				t.Errorf("foyer is built with %s", pkg)
			}
		}
		if strings.HasPrefix(pkg, "github.com/foyerhq/foyer") && strings.Contains(" "+imports+" ", " github.com/prometheus/common/expfmt ") {
			t.Errorf("%s imports prometheus/common/expfmt", pkg)
		}
	}
}
