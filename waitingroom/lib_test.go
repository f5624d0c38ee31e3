package waitingroom

import (
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// The Go spelling of a reservation id (reservation.go) and the scripts' one
// (lib.lua) are two halves of one format: each reads what the other writes.
func TestGoAndTheScriptsSpellReservationIDsAlike(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	lib, err := luaFiles.ReadFile("lua/lib.lua")
	if err != nil {
		t.Fatal(err)
	}
	probe := redis.NewScript(string(lib) + `
local nonce, ticket = parse_reservation(ARGV[3])
return {reservation_id(ARGV[1], ARGV[2]), nonce or '', ticket or ''}`)
	for _, c := range []struct {
		nonce  string
		ticket int64
	}{{"ABC234", 1}, {"Q7_X", 42}, {"N", 1234567890123}} {
		id := ReservationID(c.nonce, c.ticket)
		got, err := probe.Run(t.Context(), rdb, nil, c.nonce, c.ticket, id).StringSlice()
		if err != nil {
			t.Fatal(err)
		}
		nonce, ticket, ok := ParseReservationID(got[0])
		if got[0] != id || !ok || nonce != c.nonce || ticket != c.ticket {
			t.Errorf("lib.lua names (%s, %d) %q, Go %q and reads it back as (%q, %d, %v)", c.nonce, c.ticket, got[0], id, nonce, ticket, ok)
		}
		if got[1] != c.nonce || got[2] != strconv.FormatInt(c.ticket, 10) {
			t.Errorf("lib.lua reads %q as (%q, %q), want (%q, %d)", id, got[1], got[2], c.nonce, c.ticket)
		}
	}
	for _, bad := range []string{"", "r_", "r_x_", "x_ABC_1", "r__1", "r_ABC_1a"} {
		got, err := probe.Run(t.Context(), rdb, nil, "n", 1, bad).StringSlice()
		if err != nil {
			t.Fatal(err)
		}
		_, _, ok := ParseReservationID(bad)
		if (got[1] != "") != ok {
			t.Errorf("%q: lib.lua reads nonce %q, Go ok=%v: they disagree", bad, got[1], ok)
		}
	}
}

// Each shared idea of the scripts is spelled once, in lib.lua: Redis's clock,
// the reservation id format, the batch's who list and the declaration of
// sold out. A script that spells one again has forked it.
func TestOnlyTheScriptPreludeSpellsTheScriptsSharedIdeas(t *testing.T) {
	forks := map[string]*regexp.Regexp{
		"Redis's clock":         regexp.MustCompile(`redis\.call\('TIME'\)`),
		"the reservation id":    regexp.MustCompile(`'r_'|\^r_`),
		"the batch's who list":  regexp.MustCompile(`':who'`),
		"declaring sold out":    regexp.MustCompile(`'state', 'sold_out'`),
		"a second sold-out law": regexp.MustCompile(`'available'\) == '0'`),
	}
	err := fs.WalkDir(luaFiles, "lua", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == "lua/lib.lua" {
			return err
		}
		src, err := luaFiles.ReadFile(path)
		if err != nil {
			return err
		}
		for idea, re := range forks {
			if re.Match(src) {
				t.Errorf("%s spells %s again: use lib.lua's", path, idea)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A script runs with lib.lua before it, the same text every time: its SHA,
// which nodes share through EVALSHA, does not change between loads.
func TestEveryScriptRunsWithThePreludeAndAStableSHA(t *testing.T) {
	lib, err := luaFiles.ReadFile("lua/lib.lua")
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*redis.Script{"confirm": confirmScript, "tick": tickScript, "join": joinScript} {
		src, err := scriptSource(name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(src, string(lib)) {
			t.Errorf("%s.lua runs without lib.lua before it", name)
		}
		// The tests run s behind the key guard (keyguard_test.go).
		first := unguardedHashes[name]
		if first == "" {
			first = s.Hash()
		}
		if again := script(name); again.Hash() != first {
			t.Errorf("%s.lua loads as %s, then %s", name, first, again.Hash())
		}
	}
}

// join.lua declares its KEYS in its header; joinScriptKeys is the one list
// every caller (tests too) passes, and it must be as long, in one hash slot.
// Tests used to build the list by hand and passed 7 of its 8 keys.
func TestJoinScriptKeysAreTheKeysJoinLuaDeclares(t *testing.T) {
	src, err := luaFiles.ReadFile("lua/join.lua")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^-- KEYS: (.+)$`).FindSubmatch(src)
	if m == nil {
		t.Fatal("join.lua declares no KEYS")
	}
	declared := strings.Split(string(m[1]), ", ")
	keys := joinScriptKeys("s_1")
	if len(keys) != len(declared) {
		t.Fatalf("joinScriptKeys has %d keys, join.lua takes %d (%v)", len(keys), len(declared), declared)
	}
	for i, name := range declared {
		if !strings.HasPrefix(keys[i], "sale:{s_1}:") || !strings.HasSuffix(keys[i], ":"+name) {
			t.Errorf("KEYS[%d] is %q, join.lua reads it as %s of sale {s_1}", i+1, keys[i], name)
		}
	}
}

// declare_sold_out is the one law both confirm.lua and tick.lua obey: a sale
// with nothing available or held is sold out, announced once; an ended sale
// stays ended (a hold granted before the end may still be confirmed after).
func TestDeclaringSoldOutHappensOnceAndNeverReopensOrRenamesAnEndedSale(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	lib, err := luaFiles.ReadFile("lua/lib.lua")
	if err != nil {
		t.Fatal(err)
	}
	declare := redis.NewScript(string(lib) + `return declare_sold_out(KEYS[1], KEYS[2], 100) and 1 or 0`)
	k := Keys("s_law")
	run := func(state, available, held string) (declared int, after string, events int64) {
		t.Helper()
		rdb.Del(t.Context(), k.Events)
		rdb.HSet(t.Context(), k.Meta, "state", state, "available", available, "held", held)
		n, err := declare.Run(t.Context(), rdb, []string{k.Meta, k.Events}).Int()
		if err != nil {
			t.Fatal(err)
		}
		return n, rdb.HGet(t.Context(), k.Meta, "state").Val(), rdb.XLen(t.Context(), k.Events).Val()
	}
	for _, c := range []struct {
		state, available, held string
		declared               int
		after                  string
	}{
		{"open", "0", "0", 1, "sold_out"},
		{"sold_out", "0", "0", 0, "sold_out"}, // not announced twice
		{"ended", "0", "0", 0, "ended"},
		{"open", "1", "0", 0, "open"},
		{"open", "0", "1", 0, "open"},
	} {
		declared, after, events := run(c.state, c.available, c.held)
		if declared != c.declared || after != c.after || events != int64(c.declared) {
			t.Errorf("%s with %s available, %s held: declared %d, now %s, %d events; want %d, %s, %d",
				c.state, c.available, c.held, declared, after, events, c.declared, c.after, c.declared)
		}
	}
}
