package app_test

import (
	"os"
	"strings"
	"testing"

	"github.com/foyerhq/foyer/internal/app"
)

func TestReadmeListsEverySettingWithItsDefault(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) > 3 && strings.HasPrefix(strings.TrimSpace(cells[1]), "`FOYER_") {
			rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = strings.TrimSpace(cells[2])
		}
	}
	for _, v := range app.EnvVars() {
		row, ok := rows[v.Name]
		if !ok {
			t.Errorf("README.md has no row for %s", v.Name)
			continue
		}
		if v.Default != "" && row != "`"+v.Default+"`" {
			t.Errorf("README.md gives %s the default %s; the code has %q", v.Name, row, v.Default)
		}
		delete(rows, v.Name)
	}
	for name := range rows {
		t.Errorf("README.md lists %s, which the code does not read", name)
	}
}
