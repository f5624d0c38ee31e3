package pow

import (
	"context"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var testSecret = []byte("a test secret of 32 bytes, no more")

var _ SpentChallenges = redis.UniversalClient(nil) // cluster clients fit too

// newTestGuard returns a Guard over rdb, or over a Redis that fails every
// command when rdb is nil (for tests that never reach Redis).
func newTestGuard(t testing.TB, rdb redis.Cmdable) *Guard {
	t.Helper()
	if rdb == nil {
		unreachable := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
		t.Cleanup(func() { unreachable.Close() })
		rdb = unreachable
	}
	g, err := NewGuard(testSecret, rdb)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// newRedisGuard returns a Guard over a fresh Redis of its own.
func newRedisGuard(t testing.TB) (*Guard, *redis.Client) {
	t.Helper()
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	return newTestGuard(t, rdb), rdb
}

func issue(t testing.TB, g *Guard, saleID, shopperID string, difficulty int) string {
	t.Helper()
	challenge, err := g.Issue(saleID, shopperID, difficulty)
	if err != nil {
		t.Fatal(err)
	}
	return challenge
}

func solve(t testing.TB, challenge string) string {
	t.Helper()
	solution, err := Solve(challenge)
	if err != nil {
		t.Fatal(err)
	}
	return solution
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// validLookingChallenge is well formed but for the version and difficulty given.
func validLookingChallenge(t *testing.T, version byte, difficulty int) string {
	t.Helper()
	payload := make([]byte, payloadSize)
	payload[0], payload[1] = version, byte(difficulty)
	return encoding.EncodeToString(payload) + "." + encoding.EncodeToString(make([]byte, 32))
}

// withPayload rewrites a challenge's payload, keeping its mac.
func withPayload(t *testing.T, challenge string, change func(payload []byte)) string {
	t.Helper()
	encodedPayload, mac, _ := strings.Cut(challenge, ".")
	payload, err := encoding.DecodeString(encodedPayload)
	if err != nil {
		t.Fatal(err)
	}
	change(payload)
	return encoding.EncodeToString(payload) + "." + mac
}

func TestASolvedChallengeIsAccepted(t *testing.T) {
	g, _ := newRedisGuard(t)
	challenge := issue(t, g, "s_1", "shopper-a", 12)
	if len(challenge) != 79 {
		t.Errorf("a challenge of %d characters, want 79: %s", len(challenge), challenge)
	}
	if err := g.Verify(t.Context(), "s_1", "shopper-a", challenge, solve(t, challenge)); err != nil {
		t.Errorf("verify a solved challenge: %v", err)
	}
}

func TestAChallengeIsBoundToItsSaleAndShopper(t *testing.T) {
	g, _ := newRedisGuard(t)
	challenge := issue(t, g, "s_1", "shopper-a", 8)
	solution := solve(t, challenge)
	for _, tt := range []struct{ name, saleID, shopperID string }{
		{"another shopper", "s_1", "shopper-b"},
		{"another sale", "s_2", "shopper-a"},
		{"the same bytes split differently", "s_1s", "hopper-a"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := g.Verify(t.Context(), tt.saleID, tt.shopperID, challenge, solution); !errors.Is(err, ErrPowInvalid) {
				t.Errorf("verify for %s/%s: %v, want ErrPowInvalid", tt.saleID, tt.shopperID, err)
			}
		})
	}
	if err := g.Verify(t.Context(), "s_1", "shopper-a", challenge, solution); err != nil {
		t.Errorf("the rejected attempts spent the rightful shopper's challenge: %v", err)
	}
}

func TestATamperedChallengeIsRejected(t *testing.T) {
	g, _ := newRedisGuard(t)
	challenge := issue(t, g, "s_1", "shopper-a", 16)
	easier := withPayload(t, challenge, func(p []byte) { p[1] = 4 })
	later := withPayload(t, challenge, func(p []byte) {
		binary.BigEndian.PutUint64(p[2:10], uint64(time.Now().Add(time.Hour).UnixMilli()))
	})
	otherSecret, err := NewGuard([]byte("another secret of enough length"), g.spent)
	if err != nil {
		t.Fatal(err)
	}
	forged := issue(t, otherSecret, "s_1", "shopper-a", 4)
	for name, tampered := range map[string]string{"difficulty lowered": easier, "expiry moved": later, "signed with another secret": forged} {
		t.Run(name, func(t *testing.T) {
			if err := g.Verify(t.Context(), "s_1", "shopper-a", tampered, solve(t, tampered)); !errors.Is(err, ErrPowInvalid) {
				t.Errorf("verify: %v, want ErrPowInvalid", err)
			}
		})
	}
}

func TestAnExpiredChallengeIsRejected(t *testing.T) {
	g, _ := newRedisGuard(t)
	g.Now = func() time.Time { return time.Now().Add(-g.TTL - time.Second) }
	challenge := issue(t, g, "s_1", "shopper-a", 8)
	g.Now = time.Now
	if err := g.Verify(t.Context(), "s_1", "shopper-a", challenge, solve(t, challenge)); !errors.Is(err, ErrPowExpired) {
		t.Errorf("verify an expired challenge: %v, want ErrPowExpired", err)
	}
}

func TestASolutionIsAcceptedOnlyOnce(t *testing.T) {
	g, rdb := newRedisGuard(t)
	ctx := t.Context()
	challenge := issue(t, g, "s_1", "shopper-a", 8)
	solution := solve(t, challenge)
	if err := g.Verify(ctx, "s_1", "shopper-a", challenge, solution); err != nil {
		t.Fatal(err)
	}
	if err := g.Verify(ctx, "s_1", "shopper-a", challenge, solution); !errors.Is(err, ErrPowReplayed) {
		t.Errorf("verify the same solution again: %v, want ErrPowReplayed", err)
	}
	fresh := issue(t, g, "s_1", "shopper-a", 8)
	if err := g.Verify(ctx, "s_1", "shopper-a", fresh, solve(t, fresh)); err != nil {
		t.Errorf("verify a fresh challenge after a replay: %v", err)
	}

	// The spent challenge is remembered until it would have expired, no more.
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys in Redis: %v (%v), want the two spent challenges", keys, err)
	}
	for _, key := range keys {
		ttl, err := rdb.PTTL(ctx, key).Result()
		if err != nil || ttl <= g.TTL-time.Minute || ttl > g.TTL+clockSkew+time.Millisecond {
			t.Errorf("%s expires in %v (%v), want about %v", key, ttl, err, g.TTL+clockSkew)
		}
	}
}

func TestTheSpentKeySharesTheSalesHashTag(t *testing.T) {
	hashTag := func(key string) string {
		_, rest, _ := strings.Cut(key, "{")
		tag, _, _ := strings.Cut(rest, "}")
		return tag
	}
	key := spentKey("s_42", make([]byte, nonceSize))
	// A sale's key as waitingroom.Keys names it (waitingroom imports pow, so
	// this test cannot ask it).
	if got, want := hashTag(key), hashTag("sale:{s_42}:meta"); got != want || got != "s_42" {
		t.Errorf("spent key %s has hash tag %q, the sale's keys %q", key, got, want)
	}
}

func TestASolutionOfALowerDifficultyIsRejected(t *testing.T) {
	g, _ := newRedisGuard(t)
	challenge := issue(t, g, "s_1", "shopper-a", 16)
	// The first counter that meets 4 bits but not 16.
	var weak string
	for c := uint64(0); weak == ""; c++ {
		if n := leadingZeroBits(hashOf(challenge, itoa(c))); n >= 4 && n < 16 {
			weak = itoa(c)
		}
	}
	if err := g.Verify(t.Context(), "s_1", "shopper-a", challenge, weak); !errors.Is(err, ErrPowInvalid) {
		t.Errorf("verify a 4-bit solution of a 16-bit challenge: %v, want ErrPowInvalid", err)
	}
}

func TestAMissingSolutionIsRequired(t *testing.T) {
	g := newTestGuard(t, nil)
	challenge := issue(t, g, "s_1", "shopper-a", 8)
	for _, c := range [][2]string{{"", ""}, {challenge, ""}, {"", "0"}} {
		if err := g.Verify(t.Context(), "s_1", "shopper-a", c[0], c[1]); !errors.Is(err, ErrPowRequired) {
			t.Errorf("verify %q/%q: %v, want ErrPowRequired", c[0], c[1], err)
		}
	}
}

func TestMalformedChallengesAndSolutionsAreInvalid(t *testing.T) {
	g := newTestGuard(t, nil)
	challenge := issue(t, g, "s_1", "shopper-a", 4)
	solution := solve(t, challenge)
	for _, c := range [][2]string{
		{"garbage", solution},
		{challenge + "A", solution},
		{"A" + challenge, solution},
		{challenge, "0" + solution}, // the same counter, another spelling
		{challenge, "-" + solution},
		{challenge, solution + " "},
	} {
		if err := g.Verify(t.Context(), "s_1", "shopper-a", c[0], c[1]); !errors.Is(err, ErrPowInvalid) {
			t.Errorf("verify %q/%q: %v, want ErrPowInvalid", c[0], c[1], err)
		}
	}
}

func TestARedisFailureIsAnErrorNotAVerdict(t *testing.T) {
	g := newTestGuard(t, nil) // Redis unreachable
	challenge := issue(t, g, "s_1", "shopper-a", 4)
	err := g.Verify(t.Context(), "s_1", "shopper-a", challenge, solve(t, challenge))
	if err == nil || errors.Is(err, ErrPowReplayed) || errors.Is(err, ErrPowInvalid) || !strings.Contains(err.Error(), "s_1") {
		t.Errorf("verify with Redis down: %v, want a wrapped Redis error naming the sale", err)
	}
}

func TestDifficultyZeroIssuesNoChallenge(t *testing.T) {
	g := newTestGuard(t, nil)
	if challenge := issue(t, g, "s_1", "shopper-a", 0); challenge != "" {
		t.Errorf("difficulty 0 issued %q, want no challenge", challenge)
	}
	for _, d := range []int{-1, MaxDifficulty + 1} {
		if _, err := g.Issue("s_1", "shopper-a", d); err == nil {
			t.Errorf("issued a challenge of difficulty %d", d)
		}
	}
}

func TestNewGuardRefusesAShortSecret(t *testing.T) {
	if _, err := NewGuard([]byte("short"), newTestGuard(t, nil).spent); err == nil {
		t.Error("NewGuard took a 5-byte secret")
	}
}

func TestVerifyHonoursTheContext(t *testing.T) {
	g, _ := newRedisGuard(t)
	challenge := issue(t, g, "s_1", "shopper-a", 4)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := g.Verify(ctx, "s_1", "shopper-a", challenge, solve(t, challenge)); !errors.Is(err, context.Canceled) {
		t.Errorf("verify with a canceled context: %v, want context.Canceled", err)
	}
}
