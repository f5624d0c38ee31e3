package pow

import (
	"os/exec"
	"strings"
	"testing"
)

// The browser's solver must follow the same hashing rule as Go, or shoppers
// would send solutions the server rejects. node runs the shopper page's
// worker (web/static/client/pow-worker.js, @foyer/client's solver bundled)
// with WebCrypto as a browser would.
func TestTheBrowserSolverFindsTheSameSolutionAsGo(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is needed to run the browser solver (Debian package nodejs): ", err)
	}
	g, _ := newRedisGuard(t)
	for _, difficulty := range []int{1, 8, 12} {
		challenge := issue(t, g, "s_js", "shopper-js", difficulty)
		out, err := exec.CommandContext(t.Context(), node, "testdata/solve.js", "../../../web/static/client/pow-worker.js",
			challenge, itoa(uint64(difficulty))).Output()
		if err != nil {
			t.Fatalf("node solve.js: %v", describeExit(err))
		}
		fromJS := strings.TrimSpace(string(out))
		if fromGo := solve(t, challenge); fromJS != fromGo {
			t.Errorf("difficulty %d: the page's worker found %s, Go %s", difficulty, fromJS, fromGo)
		}
		if err := g.Verify(t.Context(), "s_js", "shopper-js", challenge, fromJS); err != nil {
			t.Errorf("difficulty %d: verify the page's worker's solution: %v", difficulty, err)
		}
	}
}

// describeExit adds what a failed command wrote to stderr.
func describeExit(err error) string {
	if exit, ok := err.(*exec.ExitError); ok {
		return err.Error() + ": " + string(exit.Stderr)
	}
	return err.Error()
}
