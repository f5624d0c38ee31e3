package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/internal/localservers"
)

// cluster is a whole Foyer as a production one runs: Redis, Postgres, a
// worker process and several gateway processes, each holding its own
// sockets (one process may hold at most 20,000 here).
type cluster struct {
	dir      string
	redis    *localservers.Redis
	postgres *localservers.Postgres
	env      []string // the settings every Foyer process gets
	urls     []string // the gateways
	// metricsURLs are the gateways' ops ports, in the order of urls.
	metricsURLs []string
	adminToken  string
	procs       []*exec.Cmd
	worker      *exec.Cmd // among procs: its CPU is read from /proc
}

// startCluster starts Redis and Postgres in a new temp folder, migrates, and
// starts nodes gateways and one worker, all as processes of foyer, the
// product binary.
func startCluster(ctx context.Context, foyer string, nodes int, log io.Writer) (_ *cluster, err error) {
	dir, err := os.MkdirTemp("", "foyer-bench-")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, adminToken: rand.Text()}
	defer func() {
		if err != nil {
			c.stop()
		}
	}()
	if c.redis, err = localservers.StartRedis(ctx, localservers.RedisOptions{Dir: filepath.Join(dir, "redis"), AppendOnly: true}); err != nil {
		return nil, err
	}
	if c.postgres, err = localservers.StartPostgres(ctx, localservers.PostgresOptions{Dir: filepath.Join(dir, "postgres")}); err != nil {
		return nil, err
	}
	c.env = []string{
		"FOYER_REDIS_URL=" + c.redis.URL(),
		"FOYER_DATABASE_URL=" + c.postgres.URL("foyer"),
		"FOYER_ADMIN_TOKEN=" + c.adminToken,
		"FOYER_SIGNING_KEYS=" + keyring.NewSeed(),
		"FOYER_PAYMENT_WEBHOOK_SECRET=" + rand.Text() + rand.Text(), // at least 32 bytes
		"FOYER_LOG_LEVEL=error",
		"FOYER_DEMO_SALE=false",
		// The load generator plays thousands of shoppers from a few loopback
		// addresses: per-IP limits would measure themselves. So would the
		// node's ceiling on joins (1,000/s by default), which a machine
		// faster than the one it was set on passes: the join rate is the
		// join path's, against bare accepts that have no ceiling. The
		// ceiling on connections stays on.
		"FOYER_LIMIT_IP_REQUESTS=0", "FOYER_LIMIT_IP_SESSIONS=0", "FOYER_LIMIT_IP_CONNECTS=0",
		"FOYER_LIMIT_IP_JOINS=0", "FOYER_MAX_CONNS_PER_IP=0", "FOYER_MAX_JOINS_PER_SECOND=0",
		// The players are bots by design: every one of them would be flagged
		// (many_identities, fast_checkout, early_join) at a script per join or
		// checkout, which would measure the signals, not the sale.
		"FOYER_SIGNAL_SESSIONS_PER_IP=0", "FOYER_SIGNAL_FAST_CHECKOUT=0", "FOYER_SIGNAL_EARLY_JOIN=0",
	}
	if err := c.run(ctx, foyer, "migrate"); err != nil {
		return nil, err
	}
	for n := range nodes {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		opsPort, err := freePort()
		if err != nil {
			return nil, err
		}
		url := fmt.Sprintf("http://127.0.0.1:%d", port)
		if err := c.start(foyer, log, []string{"serve"}, "FOYER_HTTP_ADDR=127.0.0.1:"+fmt.Sprint(port),
			"FOYER_METRICS_ADDR=127.0.0.1:"+fmt.Sprint(opsPort), fmt.Sprintf("FOYER_NODE_ID=bench-gw-%d", n+1)); err != nil {
			return nil, err
		}
		if err := waitHealthy(ctx, url); err != nil {
			return nil, err
		}
		c.urls = append(c.urls, url)
		c.metricsURLs = append(c.metricsURLs, fmt.Sprintf("http://127.0.0.1:%d", opsPort))
	}
	if err := c.start(foyer, log, []string{"worker"}, "FOYER_NODE_ID=bench-worker", "FOYER_WORKER_METRICS_ADDR=127.0.0.1:0",
		"FOYER_PAYMENT_WEBHOOK_URL="+c.urls[0]+"/v1/payments/webhook"); err != nil {
		return nil, err
	}
	c.worker = c.procs[len(c.procs)-1]
	return c, nil
}

// run runs `foyer args` to its end with the cluster's settings.
func (c *cluster) run(ctx context.Context, foyer string, args ...string) error {
	cmd := exec.CommandContext(ctx, foyer, args...)
	cmd.Env = append(os.Environ(), c.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("foyer %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// start starts `foyer args` in the background with the cluster's settings
// and extra ones; it runs until stop.
func (c *cluster) start(foyer string, log io.Writer, args []string, extra ...string) error {
	cmd := exec.Command(foyer, args...)
	cmd.Env = append(append(os.Environ(), c.env...), extra...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start foyer %s: %w", strings.Join(args, " "), err)
	}
	c.procs = append(c.procs, cmd)
	return nil
}

// stop stops every process and server, and removes the temp folder.
func (c *cluster) stop() {
	for _, p := range c.procs {
		p.Process.Signal(os.Interrupt)
	}
	for _, p := range c.procs {
		done := make(chan struct{})
		go func() { p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			p.Process.Kill()
			<-done
		}
	}
	if c.redis != nil {
		c.redis.Stop()
	}
	if c.postgres != nil {
		c.postgres.Stop()
	}
	os.RemoveAll(c.dir)
}

// startBare starts the bare WebSocket server as a process of self (`foyer-bench
// bare`, tuned or not) and returns its URL and a function that stops it.
func startBare(ctx context.Context, self string, tuned bool, log io.Writer) (string, func(), error) {
	args := []string{"bare", "127.0.0.1:0"}
	if tuned {
		args = []string{"bare", "-tuned", "127.0.0.1:0"}
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start the bare server: %w", err)
	}
	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		stop()
		return "", nil, fmt.Errorf("the bare server did not say where it listens: %q %v", line, err)
	}
	go io.Copy(io.Discard, stdout)
	return "http://" + addr, stop, nil
}

// waitHealthy waits until the gateway at url answers /healthz.
func waitHealthy(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/healthz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gateway %s never became healthy: %w", url, ctx.Err())
		case <-t.C:
		}
	}
}

// freePort is a TCP port free on loopback at the time of asking.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
