package pow

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func TestLeadingZeroBitsCountsFromTheFirstBytesTopBit(t *testing.T) {
	tests := []struct {
		name  string
		first []byte
		want  int
	}{
		{"top bit set", []byte{0x80}, 0},
		{"low bit of the first byte", []byte{0x01}, 7},
		{"one zero byte then 0x40", []byte{0x00, 0x40}, 9},
		{"two zero bytes then 0x0f", []byte{0x00, 0x00, 0x0f}, 20},
		{"all zero", make([]byte, sha256.Size), 256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sum [sha256.Size]byte
			copy(sum[:], tt.first)
			if len(tt.first) < sha256.Size {
				sum[len(tt.first)] = 0xff // the bits after must not count
			}
			if got := leadingZeroBits(sum); got != tt.want {
				t.Errorf("leadingZeroBits(%x...) = %d, want %d", tt.first, got, tt.want)
			}
		})
	}
}

// The hashing rule on a fixed input, the same vector as pow.js gives: the
// smallest counter with 8 leading zero bits for "abc" is 181.
func TestTheHashingRuleOnAKnownVector(t *testing.T) {
	sum := hashOf("abc", "181")
	if got := hex.EncodeToString(sum[:4]); got != "003613d5" {
		t.Errorf(`SHA-256("abc:181") starts %s, want 003613d5`, got)
	}
	if got := leadingZeroBits(sum); got != 10 {
		t.Errorf("%d leading zero bits, want 10", got)
	}
	if got := search("abc", 8); got != 181 {
		t.Errorf(`search("abc", 8) = %d, want 181`, got)
	}
}

func TestSolveFindsTheSmallestCounterThatMeetsTheDifficulty(t *testing.T) {
	g := newTestGuard(t, nil)
	for _, difficulty := range []int{1, 4, 8, 12} {
		challenge := issue(t, g, "s_1", "shopper", difficulty)
		solution, err := Solve(challenge)
		if err != nil {
			t.Fatal(err)
		}
		counter := search(challenge, difficulty)
		if solution != itoa(counter) {
			t.Fatalf("difficulty %d: Solve = %s, search = %d", difficulty, solution, counter)
		}
		if got := leadingZeroBits(hashOf(challenge, solution)); got < difficulty {
			t.Errorf("difficulty %d: the solution's hash has %d leading zero bits", difficulty, got)
		}
		for c := range counter {
			if leadingZeroBits(hashOf(challenge, itoa(c))) >= difficulty {
				t.Fatalf("difficulty %d: counter %d < %d already meets it", difficulty, c, counter)
			}
		}
	}
}

func TestSolveRejectsWhatIsNotAChallenge(t *testing.T) {
	for _, challenge := range []string{"nodot", "!!.!!", "AAAA.AAAA", validLookingChallenge(t, 2, 8), validLookingChallenge(t, 1, 33)} {
		if _, err := Solve(challenge); err == nil {
			t.Errorf("Solve(%q) succeeded, want an error", challenge)
		}
	}
}

func TestTheEmptyChallengeNeedsNoWork(t *testing.T) {
	solution, err := Solve("")
	if solution != "" || err != nil {
		t.Errorf(`Solve("") = %q, %v; want "", nil`, solution, err)
	}
}

func TestIsCounterAcceptsOnlyTheCanonicalSpelling(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "7": true, "181": true, "18446744073709551615": true,
		"": false, "01": false, "-1": false, "+1": false, " 1": false, "1e3": false, "0x10": false,
		"18446744073709551616": false, // above 64 bits
	} {
		if got := isCounter(s); got != want {
			t.Errorf("isCounter(%q) = %v, want %v", s, got, want)
		}
	}
}
