package waitingroom

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestPositionIsTicketMinusMarkMinusGoneBelow(t *testing.T) {
	cases := []struct {
		name   string
		mark   int64
		gone   []int64
		ticket int64
		want   int64
	}{
		{"head of a fresh queue", 0, nil, 1, 1},
		{"behind admitted shoppers", 10, nil, 15, 5},
		{"leavers ahead move it up", 10, []int64{11, 13}, 15, 3},
		{"leavers behind do not", 10, []int64{16, 20}, 15, 5},
		{"already admitted", 10, nil, 10, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPositions(View{Mark: tc.mark, Gone: tc.gone})
			if got := p.Of(tc.ticket); got != tc.want {
				t.Errorf("Of(%d) = %d, want %d", tc.ticket, got, tc.want)
			}
		})
	}
}

// TestPositionsMatchTheTrueRankAndNeverRise plays random joins, leaves and
// admissions against a plain slice that is the queue, and checks every
// waiting ticket's computed position against its true rank after each step.
func TestPositionsMatchTheTrueRankAndNeverRise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		var queue []int64 // the truth: waiting tickets in order
		var next int64
		p := NewPositions(View{})
		last := map[int64]int64{}
		for range 400 {
			switch r := rng.IntN(10); {
			case r < 5:
				next++
				queue = append(queue, next)
			case r < 7 && len(queue) > 0:
				i := rng.IntN(len(queue))
				p.Gone(queue[i])
				queue = slices.Delete(queue, i, i+1)
			case len(queue) > 0:
				n := 1 + rng.IntN(min(3, len(queue)))
				p.Admitted(queue[n-1])
				queue = queue[n:]
			}
			for rank, ticket := range queue {
				got := p.Of(ticket)
				if got != int64(rank+1) {
					t.Fatalf("round %d: ticket %d at rank %d computed as %d", round, ticket, rank+1, got)
				}
				if prev, ok := last[ticket]; ok && got > prev {
					t.Fatalf("round %d: ticket %d rose from %d to %d", round, ticket, prev, got)
				}
				last[ticket] = got
			}
		}
	}
}
