package localservers

import "syscall"

// sysProcAttr runs a server as cred (nil: as us), in its own process group so a
// Ctrl-C at the terminal reaches only us and we choose the shutdown order, and
// with SIGKILL as its parent-death signal so it never outlives us. Go sets the
// signal after switching credentials, which would otherwise clear it.
// (Linux sends it when the thread that started the child exits; Go ends a
// thread only when a goroutine exits locked to it, so in practice: when we die.)
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
