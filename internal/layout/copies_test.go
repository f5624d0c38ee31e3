package layout

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestOneContextAwareSleep: waiting out a duration unless a context ends
// is written once, in internal/clock; four copies of it had drifted apart.
// A function of another package that takes a context and a duration and
// selects on a timer and ctx.Done is a copy.
func TestOneContextAwareSleep(t *testing.T) {
	sleeper := regexp.MustCompile(`(?s)func \w+\(ctx context\.Context, \w+ time\.Duration\)[^{]*\{[^}]*time\.NewTimer[^}]*ctx\.Done\(\)`)
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			filepath.ToSlash(filepath.Dir(path)) == "../../internal/clock" {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if m := sleeper.Find(src); m != nil {
			t.Errorf("%s has its own context-aware sleep (%s...): use clock.Sleep", path, strings.SplitN(string(m), "\n", 2)[0])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
