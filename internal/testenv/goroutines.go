package testenv

import (
	"runtime"
	"strings"
)

// Goroutines returns the stack of every goroutine in the process, one
// string each. The buffer grows until every stack fits: a fixed one cut
// the list short once earlier tests of the same process left enough
// goroutines behind, and a count of the ones a test looks for came out 0.
func Goroutines() []string {
	for size := 1 << 20; ; size *= 2 {
		buf := make([]byte, size)
		if n := runtime.Stack(buf, true); n < size {
			return strings.Split(string(buf[:n]), "\n\n")
		}
	}
}

// CountGoroutines counts the goroutines whose stack mentions frame, a
// function's name as a stack prints it ("checkout.(*TestProvider).deliver").
func CountGoroutines(frame string) int {
	n := 0
	for _, g := range Goroutines() {
		if strings.Contains(g, frame) {
			n++
		}
	}
	return n
}
