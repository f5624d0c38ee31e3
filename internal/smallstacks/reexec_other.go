//go:build !unix

package smallstacks

import (
	"errors"
	"os"
)

// reexec cannot replace the process here: the setting is left for child
// processes, and this one keeps Go's default.
func reexec(godebug string) error {
	os.Setenv("GODEBUG", godebug)
	return errors.New("small stacks: cannot run the program again on this system")
}
