package app

import (
	"os"
	"strings"
)

// UseSmallStacks has goroutines start on the smallest stack rather than on the
// average in use (GODEBUG adaptivestackstart=0, unless GODEBUG says
// otherwise). An idle shopper's reader started during a join storm, when
// the average is high, would otherwise keep 8 KiB for the life of its
// socket instead of 4: Go does not shrink a stack below four times what is
// in use. The runtime reads GODEBUG again when it is set. Call it first
// thing in main.
func UseSmallStacks() {
	if strings.Contains(os.Getenv("GODEBUG"), "adaptivestackstart") {
		return
	}
	os.Setenv("GODEBUG", strings.TrimPrefix(os.Getenv("GODEBUG")+",adaptivestackstart=0", ","))
}
