package ratelimit

import (
	"flag"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

func TestMain(m *testing.M) {
	flag.Parse()
	// Every test here fails a script that touches a key it was not given in
	// KEYS (testenv.GuardKeys), unless the run measures.
	if !testenv.Measuring() {
		acquireScript = redis.NewScript(testenv.GuardKeys(acquireSource))
		tallyScript = redis.NewScript(testenv.GuardKeys(tallySource))
	}
	testenv.Main(m)
}
