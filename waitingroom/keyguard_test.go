package waitingroom

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// guardedScripts are the scripts the guard goes before: every script of the
// package (TestEveryScriptIsGuardedInTests keeps the list whole).
var guardedScripts = map[string]**redis.Script{
	"load": &loadScript, "join": &joinScript, "leave": &leaveScript, "admit": &admitScript,
	"tick": &tickScript, "lease": &leaseScript, "control": &controlScript, "arrive": &arriveScript,
	"depart": &departScript, "evict": &evictScript, "find": &findScript, "flag": &flagScript,
	"confirm": &confirmScript, "refund": &refundScript, "release": &releaseScript, "swapset": &swapSetScript,
	"edit": &editScript, "delete": &deleteScript, "schedule": &scheduleScript,
}

// unguardedHashes are the scripts' SHAs as the product runs them.
var unguardedHashes = map[string]string{}

// guardKeys puts the key guard (testenv.GuardKeys) before every script,
// unless the run measures: then every test of the package fails a script
// that touches a key it was not given in KEYS.
func guardKeys() {
	if testenv.Measuring() {
		return
	}
	for name, s := range guardedScripts {
		src, err := scriptSource(name)
		if err != nil {
			panic(err)
		}
		unguardedHashes[name] = (*s).Hash()
		*s = redis.NewScript(testenv.GuardKeys(src))
	}
}

// A script is guarded in the tests only if it is on guardedScripts: a
// script added to the package must be added there too.
func TestEveryScriptIsGuardedInTests(t *testing.T) {
	err := fs.WalkDir(luaFiles, "lua", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == "lua/lib.lua" {
			return err
		}
		name := strings.TrimSuffix(strings.TrimPrefix(path, "lua/"), ".lua")
		if guardedScripts[name] == nil {
			t.Errorf("%s is not on guardedScripts: its keys go unchecked", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
