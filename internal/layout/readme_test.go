package layout

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestTheReadmesLayoutTableNamesEveryPackage: the README's layout table
// has a row for every package of the module, and no row for a folder that
// is gone, so a newcomer's map is the tree.
func TestTheReadmesLayoutTableNamesEveryPackage(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(raw), "\n## Layout\n")
	if !ok {
		t.Fatal("README.md has no section \"## Layout\"")
	}
	if end := strings.Index(table, "\n## "); end >= 0 {
		table = table[:end]
	}
	rows := map[string]bool{}
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		name := strings.TrimSpace(cells[1])
		if strings.HasPrefix(name, "`") {
			rows[strings.TrimSuffix(strings.Trim(name, "`"), "/")] = true
		}
	}
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	prefix := strings.TrimSpace(string(root)) + "/"
	for _, dir := range strings.Fields(string(out)) {
		pkg := strings.TrimPrefix(dir, prefix)
		if !rows[pkg] {
			t.Errorf("README.md's layout table has no row for %s", pkg)
		}
		delete(rows, pkg)
	}
	for name := range rows {
		t.Errorf("README.md's layout table names %s, which is no package", name)
	}
}
