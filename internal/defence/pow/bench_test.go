package pow

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkSolve measures the client's cost per difficulty: ns/op is the mean
// time of one solve. Solve times are geometric (as often 0.1x as 3x the mean),
// so with few iterations hashes/s is the steadier figure, and 2^difficulty /
// hashes/s the mean to expect.
func BenchmarkSolve(b *testing.B) {
	g := newTestGuard(b, nil)
	for _, difficulty := range []int{8, 12, 16, 20} {
		b.Run(fmt.Sprintf("bits=%d", difficulty), func(b *testing.B) {
			challenges := make([]string, b.N)
			for i := range challenges {
				challenges[i] = issue(b, g, "s_bench", "shopper", difficulty)
			}
			var hashes uint64
			b.ResetTimer()
			for _, challenge := range challenges {
				hashes += search(challenge, difficulty) + 1
			}
			b.StopTimer()
			seconds := b.Elapsed().Seconds()
			b.ReportMetric(float64(hashes)/seconds, "hashes/s")
			b.ReportMetric(float64(hashes)/float64(b.N), "hashes/op")
			b.ReportMetric(float64(uint64(1)<<difficulty)/(float64(hashes)/seconds)*1e3, "expected-ms/op")
		})
	}
}

// BenchmarkVerify measures the server's cost per join: the checks alone
// (one HMAC, one SHA-256) and with the Redis round trip that spends the
// challenge, against a real redis-server on a Unix socket.
func BenchmarkVerify(b *testing.B) {
	b.Run("checks", func(b *testing.B) {
		g := newTestGuard(b, nil)
		challenge := issue(b, g, "s_bench", "shopper", 16)
		solution := solve(b, challenge)
		b.ResetTimer()
		for range b.N {
			if _, err := g.check("s_bench", "shopper", challenge, solution, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("with-redis", func(b *testing.B) {
		g, _ := newRedisGuard(b)
		challenges, solutions := make([]string, b.N), make([]string, b.N)
		for i := range challenges {
			challenges[i] = issue(b, g, "s_bench", "shopper", 1) // the difficulty does not change the cost of Verify
			solutions[i] = solve(b, challenges[i])
		}
		b.ResetTimer()
		for i := range b.N {
			if err := g.Verify(b.Context(), "s_bench", "shopper", challenges[i], solutions[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
