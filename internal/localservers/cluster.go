package localservers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ClusterOptions configures StartCluster.
type ClusterOptions struct {
	// Dir holds one folder per node (node-1, node-2, ...), each with the
	// node's data, its cluster config file and its log. Required.
	Dir string
	// Primaries is how many primaries share the 16,384 slots. Defaults to 3,
	// the fewest redis-cli accepts.
	Primaries int
	// ReplicasPerPrimary is how many replicas follow each primary. Defaults
	// to 1: a killed primary fails over to its replica.
	ReplicasPerPrimary int
	// NodeTimeout is how long a node may be unreachable before the others
	// take it for failed and its replica takes over. Defaults to 1s: Redis's
	// own default (15s) would make a failover test wait that long.
	NodeTimeout time.Duration
	// AppendOnly turns each node's AOF on, as RedisOptions.AppendOnly does.
	AppendOnly bool
}

// Cluster is a Redis Cluster of redis-server processes on loopback, started
// by StartCluster. Its methods are safe for concurrent use.
type Cluster struct {
	// Nodes are every node, in the order redis-cli was given them: with one
	// replica each, the first Primaries nodes start as the primaries.
	Nodes []*Redis
}

// clusterSlots is how many hash slots a Redis Cluster has.
const clusterSlots = 16384

// clusterReadyTimeout bounds how long StartCluster waits for the cluster to
// agree on its slots and replicas, and Await for a failover.
const clusterReadyTimeout = 30 * time.Second

// StartCluster starts the nodes, joins them into one cluster with
// `redis-cli --cluster create`, and returns once every node says the cluster
// is ok, every slot is served and every primary has its replicas in sync.
func StartCluster(ctx context.Context, o ClusterOptions) (*Cluster, error) {
	if o.Dir == "" {
		return nil, errors.New("start redis cluster: ClusterOptions.Dir is empty")
	}
	o.Primaries = orDefault(o.Primaries, 3)
	o.ReplicasPerPrimary = orDefault(o.ReplicasPerPrimary, 1)
	if o.NodeTimeout <= 0 {
		o.NodeTimeout = time.Second
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, fmt.Errorf("start redis cluster (scripts/provision.sh installs redis-tools): %w", err)
	}
	c := &Cluster{}
	for i := range o.Primaries * (1 + o.ReplicasPerPrimary) {
		node, err := startClusterNode(ctx, o, filepath.Join(o.Dir, fmt.Sprintf("node-%d", i+1)))
		if err != nil {
			c.Stop()
			return nil, err
		}
		c.Nodes = append(c.Nodes, node)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", strconv.Itoa(o.ReplicasPerPrimary), "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("start redis cluster: redis-cli --cluster create: %w\n%s", err, out)
	}
	err = c.await(ctx, func(v clusterView) error {
		if n := len(v.primaries()); n != o.Primaries {
			return fmt.Errorf("%d primaries, want %d", n, o.Primaries)
		}
		for _, p := range v.primaries() {
			if n := len(v.replicasOf(p.id)); n != o.ReplicasPerPrimary {
				return fmt.Errorf("primary %s has %d replicas, want %d", p.addr, n, o.ReplicasPerPrimary)
			}
		}
		return nil
	}, c.replicasInSync(o.ReplicasPerPrimary))
	if err != nil {
		c.Stop()
		return nil, fmt.Errorf("start redis cluster: %w", err)
	}
	return c, nil
}

// orDefault returns v, or def when v is not positive.
func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// startClusterNode starts one node with cluster mode on. Its cluster bus
// listens on a port of its own (--cluster-port): the default, port+10000,
// is past 65535 for most of Linux's ephemeral ports.
func startClusterNode(ctx context.Context, o ClusterOptions, dir string) (*Redis, error) {
	bus, err := freePort()
	if err != nil {
		return nil, err
	}
	ro := RedisOptions{Dir: dir, AppendOnly: o.AppendOnly, extraArgs: []string{
		"--cluster-enabled", "yes",
		"--cluster-config-file", "nodes.conf", // in dir: it survives a restart, so a node rejoins
		"--cluster-node-timeout", strconv.FormatInt(o.NodeTimeout.Milliseconds(), 10),
		"--cluster-port", strconv.Itoa(bus),
	}}
	return StartRedis(ctx, ro)
}

// Addrs returns every node's address, host:port.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr
	}
	return addrs
}

// URL is the cluster as a go-redis cluster URL (redis.ParseClusterURL): the
// first node, and the others as addr parameters.
func (c *Cluster) URL() string {
	q := make([]string, 0, len(c.Nodes)-1)
	for _, n := range c.Nodes[1:] {
		q = append(q, "addr="+n.Addr)
	}
	return "redis://" + c.Nodes[0].Addr + "?" + strings.Join(q, "&")
}

// Stop stops every node that is running.
func (c *Cluster) Stop() error {
	var errs []error
	for _, n := range c.Nodes {
		errs = append(errs, n.Stop())
	}
	return errors.Join(errs...)
}

// PrimaryOf returns the node that serves key's slot as primary now.
func (c *Cluster) PrimaryOf(ctx context.Context, key string) (*Redis, error) {
	slot, err := c.slotOf(ctx, key)
	if err != nil {
		return nil, err
	}
	v, err := c.view(ctx, c.live()[0])
	if err != nil {
		return nil, err
	}
	for _, p := range v.primaries() {
		if p.serves(slot) {
			return c.node(p.addr)
		}
	}
	return nil, fmt.Errorf("no primary serves slot %d of %q", slot, key)
}

// KillPrimaryOf kills, as a crash would (SIGKILL), the primary that serves
// key's slot, and returns it: Restart brings it back, as a replica of the
// node that took over. The failover itself takes NodeTimeout and a little
// more; Await waits for it.
func (c *Cluster) KillPrimaryOf(ctx context.Context, key string) (*Redis, error) {
	p, err := c.PrimaryOf(ctx, key)
	if err != nil {
		return nil, err
	}
	if err := p.Kill(); err != nil {
		return nil, err
	}
	return p, nil
}

// PauseReplicasOf stops (SIGSTOP) the replicas of the primary that serves
// key's slot, as a replica stalled or cut off would be: the primary takes
// writes that no replica acknowledges. resume (SIGCONT) lets them go on.
func (c *Cluster) PauseReplicasOf(ctx context.Context, key string) (resume func() error, err error) {
	p, err := c.PrimaryOf(ctx, key)
	if err != nil {
		return nil, err
	}
	v, err := c.view(ctx, p)
	if err != nil {
		return nil, err
	}
	var id string
	for _, n := range v {
		if n.addr == p.Addr {
			id = n.id
		}
	}
	var paused []*Redis
	resume = func() error {
		var errs []error
		for _, r := range paused {
			errs = append(errs, r.signal(syscall.SIGCONT))
		}
		return errors.Join(errs...)
	}
	for _, rn := range v.replicasOf(id) {
		r, err := c.node(rn.addr)
		if err == nil {
			err = r.signal(syscall.SIGSTOP)
		}
		if err != nil {
			return nil, errors.Join(err, resume())
		}
		paused = append(paused, r)
	}
	if len(paused) == 0 {
		return nil, fmt.Errorf("primary %s has no replica to pause", p.Addr)
	}
	return resume, nil
}

// signal sends sig to the server's process.
func (r *Redis) signal(sig syscall.Signal) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc == nil || r.proc.exited() {
		return fmt.Errorf("signal redis-server on %s: not running", r.Addr)
	}
	if err := r.proc.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal redis-server on %s: %w", r.Addr, err)
	}
	return nil
}

// Await returns once every running node says the cluster is ok and every
// slot is served by a primary that is running: after KillPrimaryOf, once a
// replica has taken over and every node knows it.
func (c *Cluster) Await(ctx context.Context) error {
	return c.await(ctx, func(clusterView) error { return nil })
}

// await polls every running node, backing off from 1ms to 100ms, until each
// one's view passes check and the common checks (cluster ok, every slot
// served by a running primary), and then until each of also passes.
func (c *Cluster) await(ctx context.Context, check func(clusterView) error, also ...func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, clusterReadyTimeout)
	defer cancel()
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		err := c.agreed(ctx, check)
		for _, a := range also {
			if err == nil {
				err = a(ctx)
			}
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not ready: %w (last check: %v)", ctx.Err(), err)
		case <-time.After(delay):
		}
	}
}

// agreed checks every running node's own view of the cluster.
func (c *Cluster) agreed(ctx context.Context, check func(clusterView) error) error {
	running := map[string]bool{}
	for _, n := range c.live() {
		running[n.Addr] = true
	}
	for _, n := range c.live() {
		info, err := call(ctx, n.Addr, "CLUSTER", "INFO")
		if err != nil {
			return fmt.Errorf("%s: CLUSTER INFO: %w", n.Addr, err)
		}
		if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, fmt.Sprintf("cluster_slots_ok:%d", clusterSlots)) {
			return fmt.Errorf("%s is not ok yet", n.Addr)
		}
		v, err := c.view(ctx, n)
		if err != nil {
			return err
		}
		served := 0
		for _, p := range v.primaries() {
			if !running[p.addr] {
				return fmt.Errorf("%s still takes %s, which is down, for a primary", n.Addr, p.addr)
			}
			served += p.slotCount()
		}
		if served != clusterSlots {
			return fmt.Errorf("%s sees %d slots served, want %d", n.Addr, served, clusterSlots)
		}
		if err := check(v); err != nil {
			return fmt.Errorf("%s: %w", n.Addr, err)
		}
	}
	return nil
}

// replicasInSync checks that every primary has its replicas online: a
// replica still loading its first copy could not take over.
func (c *Cluster) replicasInSync(want int) func(context.Context) error {
	return func(ctx context.Context) error {
		v, err := c.view(ctx, c.live()[0])
		if err != nil {
			return err
		}
		for _, p := range v.primaries() {
			info, err := call(ctx, p.addr, "INFO", "replication")
			if err != nil {
				return fmt.Errorf("%s: INFO replication: %w", p.addr, err)
			}
			if online := strings.Count(info, "state=online"); online != want {
				return fmt.Errorf("primary %s has %d replicas online, want %d", p.addr, online, want)
			}
		}
		return nil
	}
}

// live returns the nodes whose process is running.
func (c *Cluster) live() []*Redis {
	var nodes []*Redis
	for _, n := range c.Nodes {
		n.mu.Lock()
		up := n.proc != nil && !n.proc.exited()
		n.mu.Unlock()
		if up {
			nodes = append(nodes, n)
		}
	}
	return nodes
}

// node returns the node at addr.
func (c *Cluster) node(addr string) (*Redis, error) {
	for _, n := range c.Nodes {
		if n.Addr == addr {
			return n, nil
		}
	}
	return nil, fmt.Errorf("%s is not a node of this cluster", addr)
}

// slotOf asks a node which slot key hashes to.
func (c *Cluster) slotOf(ctx context.Context, key string) (int, error) {
	reply, err := call(ctx, c.live()[0].Addr, "CLUSTER", "KEYSLOT", key)
	if err != nil {
		return 0, fmt.Errorf("CLUSTER KEYSLOT %q: %w", key, err)
	}
	slot, err := strconv.Atoi(strings.TrimPrefix(reply, ":"))
	if err != nil {
		return 0, fmt.Errorf("CLUSTER KEYSLOT %q answered %q", key, reply)
	}
	return slot, nil
}

// view reads one node's CLUSTER NODES.
func (c *Cluster) view(ctx context.Context, n *Redis) (clusterView, error) {
	out, err := call(ctx, n.Addr, "CLUSTER", "NODES")
	if err != nil {
		return nil, fmt.Errorf("%s: CLUSTER NODES: %w", n.Addr, err)
	}
	return parseClusterNodes(out)
}

// clusterView is one node's view of the cluster: a line of CLUSTER NODES per node.
type clusterView []clusterNode

// clusterNode is one line of CLUSTER NODES:
// <id> <ip:port@bus> <flags> <primary id or -> <ping> <pong> <epoch> <link> <slots...>
type clusterNode struct {
	id, addr, primaryID string
	flags               []string
	slots               [][2]int // ranges, both ends included
}

func parseClusterNodes(out string) (clusterView, error) {
	var v clusterView
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 8 {
			return nil, fmt.Errorf("CLUSTER NODES line %q: too short", line)
		}
		addr, _, _ := strings.Cut(f[1], "@")
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("CLUSTER NODES line %q: %w", line, err)
		}
		n := clusterNode{id: f[0], addr: addr, flags: strings.Split(f[2], ","), primaryID: f[3]}
		for _, s := range f[8:] {
			if strings.HasPrefix(s, "[") {
				continue // a slot being migrated or imported
			}
			lo, hi, isRange := strings.Cut(s, "-")
			if !isRange {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("CLUSTER NODES line %q: slots %q", line, s)
			}
			n.slots = append(n.slots, [2]int{a, b})
		}
		v = append(v, n)
	}
	return v, nil
}

// primaries are the nodes taken for primaries that serve slots and are
// not marked failed.
func (v clusterView) primaries() []clusterNode {
	var ps []clusterNode
	for _, n := range v {
		if slices.Contains(n.flags, "master") && !n.failed() && len(n.slots) > 0 {
			ps = append(ps, n)
		}
	}
	return ps
}

// replicasOf are the healthy replicas of the primary with this id.
func (v clusterView) replicasOf(id string) []clusterNode {
	var rs []clusterNode
	for _, n := range v {
		if slices.Contains(n.flags, "slave") && n.primaryID == id && !n.failed() {
			rs = append(rs, n)
		}
	}
	return rs
}

func (n clusterNode) failed() bool {
	return slices.Contains(n.flags, "fail") || slices.Contains(n.flags, "fail?")
}

func (n clusterNode) serves(slot int) bool {
	for _, r := range n.slots {
		if r[0] <= slot && slot <= r[1] {
			return true
		}
	}
	return false
}

func (n clusterNode) slotCount() int {
	total := 0
	for _, r := range n.slots {
		total += r[1] - r[0] + 1
	}
	return total
}
