// Package smallstacks starts a server's goroutines on the smallest stack. It
// is a leaf both binaries call first thing in main: foyer for its gateway,
// foyer-bench for the bare server Foyer is measured against, so the two hold
// their idle connections alike.
package smallstacks

import (
	"os"
	"strings"
)

// smallStacks is the GODEBUG setting Use adds.
const smallStacks = "adaptivestackstart=0"

// Use has the process's goroutines start on the smallest stack rather than
// on the average in use (GODEBUG adaptivestackstart=0, unless GODEBUG says
// otherwise). An idle shopper's reader started during a join
// storm, when the average is high, would otherwise keep 8 KiB for the life
// of its socket instead of 4: Go does not shrink a stack below four times
// what is in use.
//
// The runtime reads this setting only when the process starts: setting
// GODEBUG later reaches child processes and nothing else. So when GODEBUG
// does not say it yet, Use runs the program again in place, with the same
// arguments and the setting added (see reexec). It returns when the
// setting is in effect, when GODEBUG chose otherwise, or with the error that
// kept it from running the program again; the process then goes on with
// Go's default. Call it first thing in main.
func Use() error {
	godebug := os.Getenv("GODEBUG")
	if strings.Contains(godebug, "adaptivestackstart") {
		return nil
	}
	return reexec(strings.TrimPrefix(godebug+","+smallStacks, ","))
}
