//go:build unix

package app

import (
	"fmt"
	"os"
	"syscall"
)

// reexec replaces this process with the same program and arguments, GODEBUG
// set to godebug. The process keeps its id, so signals and supervisors see
// no difference.
func reexec(godebug string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("run again with GODEBUG=%s: %w", godebug, err)
	}
	env := append(os.Environ(), "GODEBUG="+godebug)
	if err := syscall.Exec(exe, os.Args, env); err != nil {
		return fmt.Errorf("run again with GODEBUG=%s: %w", godebug, err)
	}
	return nil // not reached: Exec returns only on failure
}
