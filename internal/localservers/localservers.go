// Package localservers starts real redis-server and Postgres processes on the
// loopback interface, each in a folder of its own, for `foyer dev` and for tests,
// and, for tests, stripe-mock and nginx (with a deployment's config rendered
// for loopback: nginxconf.go).
//
// It promises that a Start function returns only once the server answers, that
// a failure to start says why (with the tail of the server's own log), and that
// the servers die with the process that started them, even when that process is
// killed (the Linux parent-death signal).
package localservers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// readyTimeout bounds how long a Start waits for the server to answer,
	// whatever the caller's context allows. A server that dies is noticed
	// at once (waitReady), so this only bounds a live one that is slow:
	// stripe-mock parses Stripe's whole API spec as it starts, 1 s alone
	// but over 10 s on two cores shared with make test's other packages.
	readyTimeout = 60 * time.Second
	// stopTimeout bounds a graceful stop; past it the server is killed.
	stopTimeout = 15 * time.Second
	// portAttempts is how many free ports a Start tries when Port is 0: another
	// process may take the port between our probe and the server's bind.
	portAttempts = 3
	// tailSize is how much of a server's output an error message quotes.
	tailSize = 2048
)

// errPortInUse marks a server that exited because its port was taken.
var errPortInUse = errors.New("port already in use")

// process is one running server and, once it has exited, how it ended.
type process struct {
	cmd  *exec.Cmd
	tail *tailBuffer
	done chan struct{} // closed once the process has exited and err is set
	err  error
}

// launch starts bin with its output going to out and to a tail kept for error
// messages; out is closed when the process exits.
func launch(bin string, args []string, dir string, cred *syscall.Credential, out io.WriteCloser) (*process, error) {
	tail := &tailBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = io.MultiWriter(out, tail)
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = sysProcAttr(cred)
	// A server's children (Postgres backends, Redis rewrite forks) inherit the
	// output pipe and may outlive it briefly: don't let Wait hang on them.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, err
	}
	p := &process{cmd: cmd, tail: tail, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p, nil
}

// waitReady polls check, backing off from 1ms to 100ms, until it succeeds, the
// process exits, ctx ends or readyTimeout passes.
func (p *process) waitReady(ctx context.Context, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		err := check(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			err = fmt.Errorf("exited before answering (%v)", p.err)
			if strings.Contains(p.tail.String(), "already in use") {
				err = fmt.Errorf("%w: %w", errPortInUse, err)
			}
			return err
		case <-ctx.Done():
			return fmt.Errorf("no answer: %w (last try: %v)", ctx.Err(), err)
		case <-time.After(delay):
		}
	}
}

// stop sends sig (nil: none, the process was told to exit some other way) and
// waits for the exit, killing the process if it takes longer than stopTimeout.
// It is a no-op once the process has exited.
func (p *process) stop(sig os.Signal) error {
	if p.exited() {
		return nil
	}
	if sig != nil {
		if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return err
		}
	}
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("still running %v after being stopped: killed", stopTimeout)
	}
	if sig == syscall.SIGKILL {
		return nil // "signal: killed" is what we asked for
	}
	return p.err
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// logTail formats the end of the server's output for an error message.
func (p *process) logTail() string {
	return "\n--- end of server output ---\n" + p.tail.String()
}

// onFreePort calls start with port, or, when port is 0, with a free loopback
// port, trying another one if the server finds its port taken.
func onFreePort(port int, start func(port int) error) error {
	for attempt := 1; ; attempt++ {
		p := port
		if p == 0 {
			var err error
			if p, err = freePort(); err != nil {
				return err
			}
		}
		err := start(p)
		if err == nil || port != 0 || attempt == portAttempts || !errors.Is(err, errPortInUse) {
			return err
		}
	}
}

// freePort asks the kernel for a loopback port nobody listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// openLog returns w, or when w is nil the file name in dir, opened for append.
func openLog(w io.Writer, dir, name string) (io.WriteCloser, error) {
	if w != nil {
		return nopCloser{w}, nil
	}
	return os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// tailBuffer keeps the last tailSize bytes written to it.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > tailSize {
		t.b = append(t.b[:0], t.b[len(t.b)-tailSize:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
