package main

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/foyerhq/foyer/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// buildBoth compiles the two binaries `make build` puts side by side,
// foyer and foyer-bench, into one folder and returns foyer-bench's path:
// the bench finds foyer beside itself.
func buildBoth(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, b := range []struct{ out, pkg string }{{"foyer", "../foyer"}, {"foyer-bench", "."}} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, b.out), b.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	return filepath.Join(dir, "foyer-bench")
}

// withoutGODEBUG is env with every GODEBUG taken out.
func withoutGODEBUG(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, "GODEBUG=") })
}
