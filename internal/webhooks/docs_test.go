package webhooks_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/webhooks"
)

// The Go a shop copies from docs/integration.md ("Verifying the
// signature") is built and run here: it must accept what Foyer signs and
// refuse a forgery and an old signature.
func TestTheDocsVerifyCodeAcceptsFoyersSignatureAndRefusesOthers(t *testing.T) {
	doc, err := os.ReadFile("../../docs/integration.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "### Verifying the signature")
	_, code, ok2 := strings.Cut(section, "```go\n")
	code, _, ok3 := strings.Cut(code, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/integration.md has no Go block under \"Verifying the signature\"")
	}
	body := `{"id":"evt_1","type":"order.paid"}`
	now := time.Now()
	good := webhooks.Sign("whsec_doc", []byte(body), now)
	old := webhooks.Sign("whsec_doc", []byte(body), now.Add(-10*time.Minute))
	program := "package main\n\n" + code + `
var _ = handler

func main() {
	body := []byte(` + "`" + body + "`" + `)
	now := time.Now()
	for _, c := range []struct{ header string; want bool }{
		{"` + good + `", true},
		{"` + good + `0", false},
		{"` + old + `", false},
	} {
		if (verify("whsec_doc", c.header, body, now) == nil) != c.want {
			println("verify of", c.header, "is not", c.want)
			os.Exit(1)
		}
	}
	if verify("whsec_doc", "` + good + `", []byte("{}"), now) == nil {
		println("a forged body verifies")
		os.Exit(1)
	}
}
`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(program), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module docverify\n\ngo 1.24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "go", "run", ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the docs' verify: %v\n%s", err, out)
	}
}
