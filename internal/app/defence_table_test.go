package app_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryBadInputInTheDefenceTableIsPinnedByATest keeps docs/defence.md's
// table of bad inputs true: each row names the tests that send that input
// and check its answer, and each named test must exist. A row whose test is
// renamed or removed fails here, so the table cannot drift into promises.
func TestEveryBadInputInTheDefenceTableIsPinnedByATest(t *testing.T) {
	raw, err := os.ReadFile("../../docs/defence.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(raw), "\n## Bad inputs tried\n")
	if !ok {
		t.Fatal("docs/defence.md has no section \"## Bad inputs tried\"")
	}
	if end := strings.Index(table, "\n## "); end >= 0 {
		table = table[:end]
	}
	defined := testFuncsIn(t, "../..")
	testName := regexp.MustCompile("`(Test[A-Za-z0-9_]+)`")
	rows := 0
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") ||
			strings.TrimSpace(cells[1]) == "bad input" {
			continue
		}
		rows++
		names := testName.FindAllStringSubmatch(cells[len(cells)-2], -1)
		if len(names) == 0 {
			t.Errorf("row %q names no test", strings.TrimSpace(cells[1]))
		}
		for _, n := range names {
			if !defined[n[1]] {
				t.Errorf("row %q names %s, which no test file defines", strings.TrimSpace(cells[1]), n[1])
			}
		}
	}
	if rows < 20 {
		t.Errorf("the table of bad inputs has %d rows; issue 17 alone pinned more", rows)
	}
}

// testFuncsIn returns the names of the test functions defined under root.
func testFuncsIn(t *testing.T, root string) map[string]bool {
	t.Helper()
	decl := regexp.MustCompile(`(?m)^func (Test[A-Za-z0-9_]+)\(`)
	defined := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
			defined[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return defined
}
