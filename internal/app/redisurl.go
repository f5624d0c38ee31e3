package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisTarget is FOYER_REDIS_URL read: one Redis server, or a Redis Cluster
// reached through its seed addresses. Exactly one of the two is set.
type redisTarget struct {
	single  *redis.Options
	cluster *redis.ClusterOptions
}

// clusterScheme marks a cluster URL: redis+cluster:// (rediss+cluster://
// with TLS).
const clusterScheme = "+cluster"

// parseRedisURL reads FOYER_REDIS_URL. A URL is a cluster's when its scheme
// says so (redis+cluster://), when it names several hosts
// (redis://h1:6379,h2:6379) or when it gives go-redis's cluster form, more
// seeds as addr parameters (redis://h1:6379?addr=h2:6379). Anything else is
// one server, as go-redis's ParseURL reads it (redis://, rediss://,
// unix://). A cluster has one database, 0: a URL naming another is refused.
// Either way the client speaks RESP2 unless the URL asks for another
// (?protocol=3): Foyer uses no push messages, and with RESP3 the client
// looks for them before every command, a read on the socket that cost the
// gateway 6% of its CPU in a join storm.
func parseRedisURL(raw string) (redisTarget, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return redisTarget{}, errors.New("parse FOYER_REDIS_URL: not a URL (want redis://host:port/0, redis+cluster://host1:port1,host2:port2 or unix:///path)")
	}
	base, isCluster := strings.CutSuffix(scheme, clusterScheme)
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	userinfo, hosts := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hosts = authority[:i+1], authority[i+1:]
	}
	seeds := strings.Split(hosts, ",")
	isCluster = isCluster || len(seeds) > 1 || hasQueryParam(tail, "addr")
	if !isCluster {
		opts, err := redis.ParseURL(raw)
		if err != nil {
			return redisTarget{}, fmt.Errorf("parse FOYER_REDIS_URL: %w", err)
		}
		if opts.Protocol == 0 {
			opts.Protocol = 2
		}
		return redisTarget{single: opts}, nil
	}
	if base != "redis" && base != "rediss" {
		return redisTarget{}, fmt.Errorf("parse FOYER_REDIS_URL: a cluster is reached over redis or rediss, not %q", base)
	}
	// go-redis reads the first seed from the host and the others from addr
	// parameters.
	u, err := url.Parse(base + "://" + userinfo + "placeholder" + tail)
	if err != nil {
		return redisTarget{}, fmt.Errorf("parse FOYER_REDIS_URL: %w", err)
	}
	if db := strings.Trim(u.Path, "/"); db != "" && db != "0" {
		return redisTarget{}, fmt.Errorf("parse FOYER_REDIS_URL: a Redis Cluster has database 0 only, not %q", db)
	}
	u.Path = ""
	q := u.Query()
	for i, seed := range seeds {
		addr, err := seedAddr(seed)
		if err != nil {
			return redisTarget{}, fmt.Errorf("parse FOYER_REDIS_URL: seed %d: %w", i+1, err)
		}
		if i == 0 {
			u.Host = addr
		} else {
			q.Add("addr", addr)
		}
	}
	u.RawQuery = q.Encode()
	opts, err := redis.ParseClusterURL(u.String())
	if err != nil {
		return redisTarget{}, fmt.Errorf("parse FOYER_REDIS_URL: %w", err)
	}
	if opts.Protocol == 0 {
		opts.Protocol = 2
	}
	return redisTarget{cluster: opts}, nil
}

// seedAddr is one seed of a cluster URL as host:port, 6379 when the port
// is left out.
func seedAddr(seed string) (string, error) {
	if seed == "" {
		return "", errors.New("empty address")
	}
	u, err := url.Parse("redis://" + seed)
	if err != nil || u.Hostname() == "" || u.User != nil || u.Path != "" {
		return "", fmt.Errorf("%q is not host:port", seed)
	}
	port := u.Port()
	if port == "" {
		port = "6379"
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// hasQueryParam reports whether the URL's tail (path and query) has the
// query parameter name.
func hasQueryParam(tail, name string) bool {
	_, query, ok := strings.Cut(tail, "?")
	if !ok {
		return false
	}
	q, err := url.ParseQuery(query)
	return err == nil && q.Has(name)
}

// addrs names what the target connects to, for an error message.
func (r redisTarget) addrs() string {
	if r.cluster != nil {
		return "the cluster of " + strings.Join(r.cluster.Addrs, ",")
	}
	return r.single.Addr
}

// followedSalesAllowance is how many connections a client's pool (per
// node of a cluster) has beyond go-redis's default of 10 per CPU, unless
// the URL sets pool_size. A gateway holds one connection per sale it
// follows, blocked up to a second reading the sale's events
// (internal/fanout); fifty sales at once took every connection of the
// default pool, and every other command of the node waited for one until
// it timed out. go-redis opens connections only as they are needed.
const followedSalesAllowance = 200

// clusterMapMaxAge is how old the cluster client's map of slots to nodes
// may grow before a command asks for it again (CLUSTER SLOTS, to one node,
// in the background). go-redis reloads it at once only on MOVED or ASK, and
// a primary that died answers neither: with go-redis's default, a minute,
// every gateway sent a failed-over sale's commands to the dead primary for
// a minute after its replica took over.
const clusterMapMaxAge = time.Second

// Buffers of a connection to Redis. go-redis gives each connection 32 KiB
// to read and 32 KiB to write, and each of its pipeline pool's 128 KiB of
// each: with the pool above, a gateway that opened its connections in a
// join storm kept megabytes of buffers for replies of a few hundred bytes
// (a heap profile of a gateway holding 2,000 shoppers: 4 MB, a fifth of its
// heap). A longer reply is read in several reads, which go-redis does for
// any reply longer than its buffer.
const (
	connBuffer     = 4 << 10
	pipelineBuffer = 16 << 10
)

// buffered sets a client's buffer sizes in place, keeping those the URL set.
func buffered(read, write, pipelineRead, pipelineWrite *int) {
	for _, b := range []struct {
		size *int
		to   int
	}{{read, connBuffer}, {write, connBuffer}, {pipelineRead, pipelineBuffer}, {pipelineWrite, pipelineBuffer}} {
		if *b.size == 0 {
			*b.size = b.to
		}
	}
}

// client makes the client of the target: a cluster client for a cluster.
// onConnect, when not nil, runs on each new connection (to every node of a
// cluster). With oneConn, the client keeps one connection (per node of a
// cluster) and no more.
func (r redisTarget) client(onConnect func(context.Context, *redis.Conn) error, oneConn bool) redis.UniversalClient {
	// sized sets the pool's bounds in place, keeping what the URL set.
	sized := func(size, minIdle *int) {
		switch {
		case oneConn:
			*size, *minIdle = 1, 1
		case *size == 0:
			*size = 10*runtime.GOMAXPROCS(0) + followedSalesAllowance
		}
	}
	if r.cluster != nil {
		opts := *r.cluster
		opts.OnConnect = onConnect
		opts.ClusterStateReloadInterval = clusterMapMaxAge
		sized(&opts.PoolSize, &opts.MinIdleConns)
		buffered(&opts.ReadBufferSize, &opts.WriteBufferSize, &opts.PipelineReadBufferSize, &opts.PipelineWriteBufferSize)
		return redis.NewClusterClient(&opts)
	}
	opts := *r.single
	opts.OnConnect = onConnect
	sized(&opts.PoolSize, &opts.MinIdleConns)
	buffered(&opts.ReadBufferSize, &opts.WriteBufferSize, &opts.PipelineReadBufferSize, &opts.PipelineWriteBufferSize)
	return redis.NewClient(&opts)
}
