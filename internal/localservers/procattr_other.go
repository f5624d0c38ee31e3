//go:build unix && !linux

package localservers

import "syscall"

// sysProcAttr runs a server as cred (nil: as us) in its own process group.
// Only Linux has a parent-death signal: elsewhere a server outlives a parent
// that is killed without the chance to Stop it.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true}
}
