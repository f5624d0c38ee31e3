package testenv_test

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// The guard fails a script that touches a key it was not given, in the
// same hash slot or not, however it calls Redis, and lets one that keeps to
// its KEYS, or calls a command without keys, run.
func TestTheKeyGuardFailsAScriptThatTouchesAKeyItWasNotGiven(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	for _, c := range []struct {
		name, src  string
		keys       []string
		undeclared bool
	}{
		{"declared", `redis.call('SET', KEYS[1], 1); return redis.call('GET', KEYS[1])`, []string{"s:{1}:a"}, false},
		{"built in the slot", `return redis.call('SISMEMBER', ARGV[1] .. 'b', 'x')`, []string{"s:{1}:a"}, true},
		{"a second key", `return redis.call('EXISTS', KEYS[1], 's:{1}:b')`, []string{"s:{1}:a"}, true},
		{"through pcall", `return redis.pcall('GET', 'elsewhere')`, nil, true},
		{"from a function", `local function f() return redis.call('GET', 'elsewhere') end return f()`, nil, true},
		{"a keyless command", `return redis.call('TIME')[1] and 1`, nil, false},
	} {
		err := redis.NewScript(testenv.GuardKeys(c.src)).Run(t.Context(), rdb, c.keys, "s:{1}:").Err()
		if got := err != nil && strings.Contains(err.Error(), "UNDECLARED_KEY"); got != c.undeclared {
			t.Errorf("%s: %v, want undeclared %v", c.name, err, c.undeclared)
		}
	}
}
