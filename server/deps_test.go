package server

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTheTransportDependsOnNeitherTheWorkerNorTheReconcileTool: the
// transport decodes, calls the domain and encodes. It reads the dashboard's
// numbers through internal/livestats and the streams' messages through
// internal/orderstream; it once reached both through the order worker and
// the reconcile tool.
func TestTheTransportDependsOnNeitherTheWorkerNorTheReconcileTool(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for pkg := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		switch pkg {
		case "github.com/foyerhq/foyer/worker", "github.com/foyerhq/foyer/internal/reconcile":
			t.Errorf("server depends on %s", pkg)
		}
	}
}
