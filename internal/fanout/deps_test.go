package fanout

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTheEngineDependsOnNeitherTheTransportNorTokenSigning: the engine needs
// of the rest of the node only what its two small interfaces say (SaleFeed,
// TokenIssuer) and the error messages it is given (Config.EncodeError); the
// transport depends on it, never the other way round.
func TestTheEngineDependsOnNeitherTheTransportNorTokenSigning(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for pkg := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		switch pkg {
		case "github.com/foyerhq/foyer/server", "github.com/foyerhq/foyer/checkout",
			"github.com/foyerhq/foyer/internal/keyring", "github.com/gin-gonic/gin":
			t.Errorf("the fan-out engine depends on %s", pkg)
		}
	}
}
