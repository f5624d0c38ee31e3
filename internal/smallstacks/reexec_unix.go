//go:build unix

package smallstacks

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
)

// reexecMark is set in the environment of the program run again, so that it
// never runs itself again a second time, whatever its GODEBUG reads.
const reexecMark = "FOYER_SMALL_STACKS_REEXEC=1"

// reexec replaces this process with the same program and arguments, GODEBUG
// set to godebug. The process keeps its id, so signals and supervisors see
// no difference.
func reexec(godebug string) error {
	if slices.Contains(os.Environ(), reexecMark) {
		return errors.New("small stacks: GODEBUG did not take after running again")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("run again with GODEBUG=%s: %w", godebug, err)
	}
	// Any GODEBUG already there, empty ones too, goes: with two, the
	// runtime and os.Getenv read the first.
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GODEBUG=") })
	env = append(env, "GODEBUG="+godebug, reexecMark)
	if err := syscall.Exec(exe, os.Args, env); err != nil {
		return fmt.Errorf("run again with GODEBUG=%s: %w", godebug, err)
	}
	return nil // not reached: Exec returns only on failure
}
