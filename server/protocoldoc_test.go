package server

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/foyerhq/foyer/internal/wire"
)

// TestTheProtocolDocShowsEveryMessageAsTheServerSendsIt: docs/protocol.md's
// examples are the golden files, line for line, and a seed_hash in them has
// the real format, the hex of a SHA-256 (64 characters), which is what a
// client checking the draw compares (docs/fairness.md).
func TestTheProtocolDocShowsEveryMessageAsTheServerSendsIt(t *testing.T) {
	doc, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range wire.ServerMessageTypes {
		golden, err := os.ReadFile(filepath.Join("testdata", "golden", typ+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(doc, golden) {
			t.Errorf("docs/protocol.md does not show %s as the server sends it:\n%s", typ, golden)
		}
	}
	hashes := regexp.MustCompile(`"seed_hash":"([^"]*)"`).FindAllSubmatch(doc, -1)
	if len(hashes) == 0 {
		t.Fatal("docs/protocol.md shows no seed_hash")
	}
	real := regexp.MustCompile(fmt.Sprintf(`^[0-9a-f]{%d}$`, 2*sha256.Size))
	for _, h := range hashes {
		if !real.Match(h[1]) {
			t.Errorf("docs/protocol.md shows the seed_hash %q; a real one is %d hex characters", h[1], 2*sha256.Size)
		}
	}
}
