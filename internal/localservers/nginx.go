package localservers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// NginxOptions configures StartNginx.
type NginxOptions struct {
	// Dir holds the rendered config, the pid file, the access log and the
	// temp folders. It is created if missing. Required.
	Dir string
	// Config is the path of the deployment's nginx.conf to render
	// (deploy/nginx/foyer.conf; see RenderNginxConfig). Required.
	Config string
	// Upstreams are the gateways (host:port) nginx balances. At least one.
	Upstreams []string
	// Port to listen on at 127.0.0.1. Defaults to 0: a free port.
	Port int
	// Log receives nginx's error log. Defaults to nil: Dir/error.log.
	Log io.Writer
}

// Nginx is an nginx started by StartNginx, in the foreground, with its
// master and one worker. Its methods are safe for concurrent use.
type Nginx struct {
	Addr string // 127.0.0.1:port, the same across reloads

	opts NginxOptions
	bin  string
	conf string // the rendered config's path

	mu         sync.Mutex
	proc       *process
	generation int
}

// StartNginx renders the config for loopback and starts nginx with it,
// returning once nginx answers with that rendering.
func StartNginx(ctx context.Context, o NginxOptions) (*Nginx, error) {
	if o.Dir == "" || o.Config == "" {
		return nil, errors.New("start nginx: NginxOptions.Dir and Config are required")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("start nginx: %w", err)
	}
	o.Dir = dir
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("start nginx: %w", err)
	}
	bin, err := nginxBin()
	if err != nil {
		return nil, fmt.Errorf("start nginx (scripts/provision.sh installs it): %w", err)
	}
	n := &Nginx{opts: o, bin: bin, conf: filepath.Join(o.Dir, "nginx.conf")}
	if err := onFreePort(o.Port, func(port int) error { return n.start(ctx, port) }); err != nil {
		return nil, err
	}
	return n, nil
}

// URL is nginx's base URL.
func (n *Nginx) URL() string { return "http://" + n.Addr }

// Reload balances upstreams instead, as `nginx -s reload` would: the new
// config is checked first (a bad one changes nothing), then the master
// starts new workers and lets the old ones finish their connections.
// It returns once new connections are served with the new config.
func (n *Nginx) Reload(ctx context.Context, upstreams []string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc.exited() {
		return fmt.Errorf("reload nginx on %s: not running", n.Addr)
	}
	generation := n.generation + 1
	// The new config is written beside the one running and checked there:
	// only a good one takes its place.
	next := n.conf + ".next"
	if err := n.render(next, upstreams, portOf(n.Addr), generation); err != nil {
		return fmt.Errorf("reload nginx on %s: %w", n.Addr, err)
	}
	if out, err := exec.CommandContext(ctx, n.bin, n.args(next, "-t")...).CombinedOutput(); err != nil {
		return fmt.Errorf("reload nginx on %s: the new config fails its check: %w\n%s", n.Addr, err, out)
	}
	if err := os.Rename(next, n.conf); err != nil {
		return fmt.Errorf("reload nginx on %s: %w", n.Addr, err)
	}
	old := n.workers()
	if err := n.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return fmt.Errorf("reload nginx on %s: %w", n.Addr, err)
	}
	reloaded := func(ctx context.Context) error {
		if err := nginxServes(ctx, n.Addr, generation); err != nil {
			return err
		}
		// The old workers accept on the same socket until they have seen
		// the master's word; only then is every new connection the new
		// config's.
		for _, pid := range old {
			if !workerShuttingDown(pid) {
				return fmt.Errorf("old worker %d still accepts", pid)
			}
		}
		return nil
	}
	if err := n.proc.waitReady(ctx, reloaded); err != nil {
		return fmt.Errorf("reload nginx on %s: %w%s", n.Addr, err, n.proc.logTail())
	}
	n.opts.Upstreams, n.generation = upstreams, generation
	return nil
}

// Stop ends nginx at once (SIGTERM: its fast shutdown, which closes open
// WebSockets rather than wait for them) and waits for it. Should the master
// not end in time, its whole process group, workers too, is killed.
func (n *Nginx) Stop() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.proc.stop(syscall.SIGTERM); err != nil {
		syscall.Kill(-n.proc.cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // best effort: the group may be gone
		return fmt.Errorf("stop nginx on %s: %w", n.Addr, err)
	}
	return nil
}

// start renders the config for port and runs nginx until it answers with it.
func (n *Nginx) start(ctx context.Context, port int) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	n.generation = 1
	if err := n.render(n.conf, n.opts.Upstreams, port, n.generation); err != nil {
		return fmt.Errorf("start nginx on %s: %w", addr, err)
	}
	out, err := openLog(n.opts.Log, n.opts.Dir, "error.log")
	if err != nil {
		return fmt.Errorf("start nginx on %s: %w", addr, err)
	}
	proc, err := launch(n.bin, n.args(n.conf), n.opts.Dir, nil, out)
	if err != nil {
		return fmt.Errorf("start nginx on %s: %w", addr, err)
	}
	if err := proc.waitReady(ctx, func(ctx context.Context) error { return nginxServes(ctx, addr, n.generation) }); err != nil {
		proc.stop(syscall.SIGKILL)
		return fmt.Errorf("start nginx on %s: %w%s", addr, err, proc.logTail())
	}
	n.proc, n.Addr = proc, addr
	return nil
}

// render writes to path the config for upstreams, port and generation.
func (n *Nginx) render(path string, upstreams []string, port, generation int) error {
	src, err := os.ReadFile(n.opts.Config)
	if err != nil {
		return err
	}
	conf, err := RenderNginxConfig(string(src), NginxRender{Dir: n.opts.Dir, Port: port, Upstreams: upstreams,
		Generation: generation, RunAsRoot: os.Geteuid() == 0})
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(conf), 0o644)
}

// args are nginx's arguments for the rendered config at conf, with extra
// ones ("-t" to check it). -e sends what nginx says before it has read the
// config to stderr, not to the error log compiled in.
func (n *Nginx) args(conf string, extra ...string) []string {
	return append([]string{"-p", n.opts.Dir + "/", "-c", conf, "-e", "stderr"}, extra...)
}

// workers are the master's worker processes, as Linux's /proc lists its
// children; none where /proc does not tell.
func (n *Nginx) workers() []int {
	pid := n.proc.cmd.Process.Pid
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(raw)) {
		if p, err := strconv.Atoi(f); err == nil {
			pids = append(pids, p)
		}
	}
	return pids
}

// workerShuttingDown tells whether worker pid has stopped accepting: nginx
// retitles a worker "worker process is shutting down" as it closes its
// listening sockets. A worker that is gone (or a zombie, whose command line
// is empty) accepts nothing either.
func workerShuttingDown(pid int) bool {
	title, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err != nil || len(title) == 0 || strings.Contains(string(title), "shutting down")
}

// nginxServes checks that nginx at addr answers with the given generation
// of its config: ours, and reloaded.
func nginxServes(ctx context.Context, addr string, generation int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+GenerationPath, nil)
	if err != nil {
		return err
	}
	// A new connection each time: one kept alive may be an old worker's.
	client := http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64))
	if err != nil {
		return err
	}
	if want := strconv.Itoa(generation); resp.StatusCode != http.StatusOK || string(body) != want {
		return fmt.Errorf("%s answered %s %q, want generation %s", GenerationPath, resp.Status, body, want)
	}
	return nil
}

// nginxBin finds nginx on PATH or in /usr/sbin, where Debian installs it
// and where a user's PATH often does not reach.
func nginxBin() (string, error) {
	if bin, err := exec.LookPath("nginx"); err == nil {
		return bin, nil
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx", nil
	}
	return "", errors.New("nginx not found on PATH nor in /usr/sbin")
}

// portOf is the port of a host:port this package made.
func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	return port
}
