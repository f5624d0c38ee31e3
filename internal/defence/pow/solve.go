package pow

import (
	"crypto/sha256"
	"fmt"
	"math/bits"
	"strconv"
)

// Solve returns the solution of a challenge: the smallest counter, in
// decimal, whose hash has the challenge's difficulty in leading zero bits (see
// the hashing rule in the package doc). It reads the difficulty from the
// challenge, trusting it: only the server can check the mac. The empty
// challenge (difficulty 0, off) has the empty solution.
func Solve(challenge string) (string, error) {
	if challenge == "" {
		return "", nil
	}
	c, _, _, err := decode(challenge)
	if err != nil {
		return "", fmt.Errorf("solve pow: %w", err)
	}
	return strconv.FormatUint(search(challenge, c.difficulty), 10), nil
}

// search tries counters from 0 upwards and returns the first that meets
// difficulty. It reuses one buffer: at millions of hashes a second, an
// allocation per hash would be most of the cost.
func search(challenge string, difficulty int) uint64 {
	buf := make([]byte, 0, len(challenge)+1+20)
	buf = append(append(buf, challenge...), ':')
	prefix := len(buf)
	for counter := uint64(0); ; counter++ {
		buf = strconv.AppendUint(buf[:prefix], counter, 10)
		if leadingZeroBits(sha256.Sum256(buf)) >= difficulty {
			return counter
		}
	}
}

// hashOf is the hashing rule: SHA-256 of challenge + ":" + counter.
func hashOf(challenge, counter string) [sha256.Size]byte {
	return sha256.Sum256([]byte(challenge + ":" + counter))
}

// leadingZeroBits counts the zero bits before the first one bit of sum, from
// the most significant bit of its first byte.
func leadingZeroBits(sum [sha256.Size]byte) int {
	n := 0
	for _, b := range sum {
		if b != 0 {
			return n + bits.LeadingZeros8(b)
		}
		n += 8
	}
	return n
}
