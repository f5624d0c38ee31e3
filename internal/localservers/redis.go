package localservers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// RedisOptions configures StartRedis.
type RedisOptions struct {
	// Dir holds the server's data (AOF, RDB) and, by default, its log. It is
	// created if missing. Required.
	Dir string
	// Port to listen on at 127.0.0.1. Defaults to 0: a free port.
	Port int
	// AppendOnly turns the AOF on with appendfsync always, so that a Restart,
	// even after a Kill, finds every acknowledged write. Defaults to false: no
	// persistence at all (--save "" --appendonly no), the fastest for tests.
	AppendOnly bool
	// Log receives the server's own output. Defaults to nil: Dir/redis.log.
	Log io.Writer

	// extraArgs go on the server's command line after the others: a cluster
	// node's settings (cluster.go).
	extraArgs []string
}

// Redis is a redis-server started by StartRedis. Its methods are safe for
// concurrent use.
type Redis struct {
	Addr string // 127.0.0.1:port, the same across restarts

	opts RedisOptions
	bin  string
	port int

	mu   sync.Mutex
	proc *process
}

// StartRedis starts a redis-server and returns once it answers PING.
func StartRedis(ctx context.Context, o RedisOptions) (*Redis, error) {
	if o.Dir == "" {
		return nil, errors.New("start redis-server: RedisOptions.Dir is empty")
	}
	dir, err := filepath.Abs(o.Dir) // redis-server runs in Dir: a relative --dir would miss
	if err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	o.Dir = dir
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("start redis-server (scripts/provision.sh installs it): %w", err)
	}
	r := &Redis{opts: o, bin: bin}
	if err := onFreePort(o.Port, func(port int) error { return r.start(ctx, port) }); err != nil {
		return nil, err
	}
	r.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port))
	return r, nil
}

// URL is the server's address as a go-redis URL for database 0.
func (r *Redis) URL() string { return "redis://" + r.Addr + "/0" }

// Stop shuts the server down, flushing the AOF, and waits for it to exit. It
// sends the SHUTDOWN command, which Redis serves at once, and SIGTERM only if
// that fails: Redis acts on SIGTERM at its next tick, up to 100ms later, which
// adds up over many tests.
func (r *Redis) Stop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc.exited() {
		return nil // and the port may be another server's by now: send nothing
	}
	var sig os.Signal = syscall.SIGTERM
	// Stop takes no context; call bounds itself to a second.
	if _, err := call(context.Background(), r.Addr, "SHUTDOWN"); errors.Is(err, io.EOF) {
		sig = nil // the server closed the connection: it is exiting
	}
	if err := r.proc.stop(sig); err != nil {
		return fmt.Errorf("stop redis-server on %s: %w", r.Addr, err)
	}
	return nil
}

// Kill kills the server with SIGKILL, as a crash would, and waits for it.
func (r *Redis) Kill() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.proc.stop(syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill redis-server on %s: %w", r.Addr, err)
	}
	return nil
}

// Restart starts a stopped or killed server again, on the same port and Dir.
func (r *Redis) Restart(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.proc.exited() {
		return fmt.Errorf("restart redis-server on %s: still running", r.Addr)
	}
	return r.start(ctx, r.port)
}

// start runs the server on port and waits for its PONG. The caller holds r.mu
// or has not shared r yet.
func (r *Redis) start(ctx context.Context, port int) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := []string{"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", r.opts.Dir,
		"--daemonize", "no", "--protected-mode", "no"}
	if r.opts.AppendOnly {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--save", "", "--appendonly", "no")
	}
	args = append(args, r.opts.extraArgs...)
	out, err := openLog(r.opts.Log, r.opts.Dir, "redis.log")
	if err != nil {
		return fmt.Errorf("start redis-server on %s: %w", addr, err)
	}
	proc, err := launch(r.bin, args, r.opts.Dir, nil, out)
	if err != nil {
		return fmt.Errorf("start redis-server on %s: %w", addr, err)
	}
	if err := proc.waitReady(ctx, func(ctx context.Context) error { return ready(ctx, addr, proc.cmd.Process.Pid) }); err != nil {
		proc.stop(syscall.SIGKILL)
		return fmt.Errorf("start redis-server on %s: %w%s", addr, err, proc.logTail())
	}
	r.proc, r.port = proc, port
	return nil
}

// ready checks that the server at addr is process pid, not another one that
// holds the port we failed to bind, and that PING answers PONG: a server still
// loading its AOF answers -LOADING.
func ready(ctx context.Context, addr string, pid int) error {
	info, err := call(ctx, addr, "INFO", "server")
	if err != nil {
		return err
	}
	if !strings.Contains(info, fmt.Sprintf("\nprocess_id:%d\r", pid)) {
		return fmt.Errorf("%s is another server", addr)
	}
	if reply, err := call(ctx, addr, "PING"); err != nil || reply != "+PONG" {
		return fmt.Errorf("PING answered %q (%v)", reply, err)
	}
	return nil
}

// call sends a command on a new connection and returns the reply's first line,
// or its body if that line is a bulk string's length, within a second.
func call(ctx context.Context, addr string, args ...string) (string, error) {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	req := fmt.Sprintf("*%d\r\n", len(args))
	for _, a := range args {
		req += fmt.Sprintf("$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(conn, req); err != nil {
		return "", err
	}
	rd := bufio.NewReader(conn)
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSpace(line)
	if n, err := strconv.Atoi(strings.TrimPrefix(line, "$")); err == nil && line[0] == '$' && n >= 0 {
		body := make([]byte, n)
		_, err := io.ReadFull(rd, body)
		return string(body), err
	}
	return line, nil
}
