package app

import (
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// FOYER_REDIS_URL names one server as go-redis reads it, or a cluster by its
// scheme, by several hosts or by go-redis's addr parameters; either speaks
// RESP2 unless told otherwise.
func TestTheRedisURLNamesOneServerOrAClusterBySeeds(t *testing.T) {
	for _, c := range []struct {
		url      string
		cluster  []string // the seeds, nil for one server
		single   string   // the server's address
		protocol int
	}{
		{url: "redis://127.0.0.1:6379/0", single: "127.0.0.1:6379", protocol: 2},
		{url: "redis://h:7000/0?protocol=3", single: "h:7000", protocol: 3},
		{url: "redis+cluster://a:7000,b:7001,c:7002", cluster: []string{"a:7000", "b:7001", "c:7002"}, protocol: 2},
		{url: "redis+cluster://a:7000/", cluster: []string{"a:7000"}, protocol: 2},
		{url: "redis+cluster://u:p%40ss@a:7000,b/0?protocol=3", cluster: []string{"a:7000", "b:6379"}, protocol: 3},
		{url: "rediss+cluster://a:7000,[::1]:7001/?dial_timeout=2s", cluster: []string{"a:7000", "[::1]:7001"}, protocol: 2},
		{url: "redis://a:7000,b:7001/0", cluster: []string{"a:7000", "b:7001"}, protocol: 2},
		{url: "redis://a:7000?addr=b:7001&addr=c:7002", cluster: []string{"a:7000", "b:7001", "c:7002"}, protocol: 2},
	} {
		target, err := parseRedisURL(c.url)
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		switch {
		case c.cluster != nil && target.cluster == nil:
			t.Errorf("%s: read as one server, want a cluster", c.url)
		case c.cluster != nil:
			if !slices.Equal(target.cluster.Addrs, c.cluster) || target.cluster.Protocol != c.protocol {
				t.Errorf("%s: cluster of %v, RESP%d; want %v, RESP%d", c.url, target.cluster.Addrs,
					target.cluster.Protocol, c.cluster, c.protocol)
			}
		case target.single == nil:
			t.Errorf("%s: read as a cluster, want one server", c.url)
		case target.single.Addr != c.single || target.single.Protocol != c.protocol:
			t.Errorf("%s: server %s, RESP%d; want %s, RESP%d", c.url, target.single.Addr, target.single.Protocol,
				c.single, c.protocol)
		}
	}
	target, err := parseRedisURL("rediss+cluster://u:p%40ss@a:7000,b:7001")
	if err != nil {
		t.Fatal(err)
	}
	if o := target.cluster; o.Username != "u" || o.Password != "p@ss" || o.TLSConfig == nil {
		t.Errorf("rediss+cluster with credentials: user %q password %q TLS %v", o.Username, o.Password, o.TLSConfig != nil)
	}
}

// A URL Foyer cannot connect with stops the node at start with why.
func TestABadRedisURLIsRefusedWithWhy(t *testing.T) {
	for _, c := range []struct{ url, says string }{
		{"127.0.0.1:6379", "not a URL"},
		{"redis+cluster://a:7000,b:7001/3", "database 0 only"},
		{"redis://a:7000,b:7001/0?db=2", "unexpected option: db"},
		{"redis+cluster://a:7000,,b:7001", "seed 2: empty address"},
		{"redis+cluster://a:7000,b:x", `"b:x" is not host:port`},
		{"unix+cluster:///tmp/redis.sock", "over redis or rediss"},
		{"http://a:7000,b:7001", "over redis or rediss"},
		{"redis+cluster://a:7000?nonsense=1", "unexpected option: nonsense"},
		{"redis://a:7000?addr=b", "unable to parse addr param"},
		{"ftp://a:7000", "invalid URL scheme"},
	} {
		_, err := parseRedisURL(c.url)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want an error saying %q", c.url, err, c.says)
		}
	}
}

// How many replicas a checkout waits for, and how long, have bounds: out of
// them the node does not start, and says which setting and why.
func TestRedisWaitSettingsOutOfTheirBoundsStopTheNode(t *testing.T) {
	for _, c := range []struct{ name, value, says string }{
		{"FOYER_REDIS_WAIT_REPLICAS", "-1", "FOYER_REDIS_WAIT_REPLICAS must be from 0 to 5"},
		{"FOYER_REDIS_WAIT_REPLICAS", "6", "FOYER_REDIS_WAIT_REPLICAS must be from 0 to 5"},
		{"FOYER_REDIS_WAIT_TIMEOUT", "5ms", "FOYER_REDIS_WAIT_TIMEOUT must be from 10ms to 10s"},
		{"FOYER_REDIS_WAIT_TIMEOUT", "11s", "FOYER_REDIS_WAIT_TIMEOUT must be from 10ms to 10s"},
		{"FOYER_REDIS_WAIT_TIMEOUT", "0", "FOYER_REDIS_WAIT_TIMEOUT"},
	} {
		_, err := LoadConfig(map[string]string{c.name: c.value})
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s=%s: %v, want an error saying %q", c.name, c.value, err, c.says)
		}
	}
	cfg, err := LoadConfig(map[string]string{"FOYER_REDIS_WAIT_REPLICAS": "1", "FOYER_REDIS_WAIT_TIMEOUT": "250ms"})
	if err != nil || cfg.RedisWaitReplicas != 1 || cfg.RedisWaitTimeout.Milliseconds() != 250 {
		t.Errorf("1 replica within 250ms: %+v, %v", cfg, err)
	}
}

// A gateway asked to wait for a replica counts, at start, the replicas of
// every primary: a lone Redis has none, each primary of the test cluster
// has its one.
func TestTheReplicasAConfirmationWaitsForAreCountedOnEveryPrimary(t *testing.T) {
	single := testenv.RedisClient(t, testenv.NewRedis(t))
	short, err := replicasShort(t.Context(), single, 1)
	if err != nil || len(short) != 1 {
		t.Errorf("a lone Redis: %v short (%v), want it, with 0 replicas", short, err)
	}
	cluster := testenv.ClusterClient(t, testenv.Cluster(t))
	if short, err := replicasShort(t.Context(), cluster, 1); err != nil || len(short) != 0 {
		t.Errorf("the cluster: %v short (%v), want none", short, err)
	}
	if short, err := replicasShort(t.Context(), cluster, 2); err != nil || len(short) != 3 {
		t.Errorf("the cluster asked for 2 replicas: %v short (%v), want its 3 primaries", short, err)
	}
}

// A client's buffers are small unless the URL asks for others: go-redis's
// own (32 KiB a connection each way, 128 KiB in its pipeline pool) held
// megabytes of a gateway's heap for replies of a few hundred bytes.
func TestRedisClientsTakeSmallBuffersUnlessTheURLSetsThem(t *testing.T) {
	target, err := parseRedisURL("redis://127.0.0.1:1/0?pipeline_read_buffer_size=65536")
	if err != nil {
		t.Fatal(err)
	}
	rdb := target.client(nil, false).(*redis.Client)
	defer rdb.Close()
	o := rdb.Options()
	if o.ReadBufferSize != connBuffer || o.WriteBufferSize != connBuffer || o.PipelineWriteBufferSize != pipelineBuffer {
		t.Errorf("buffers %d / %d, pipeline write %d; want %d, %d, %d", o.ReadBufferSize, o.WriteBufferSize,
			o.PipelineWriteBufferSize, connBuffer, connBuffer, pipelineBuffer)
	}
	if o.PipelineReadBufferSize != 65536 {
		t.Errorf("the URL's pipeline_read_buffer_size became %d", o.PipelineReadBufferSize)
	}
	cluster, err := parseRedisURL("redis+cluster://127.0.0.1:1,127.0.0.1:2")
	if err != nil {
		t.Fatal(err)
	}
	crdb := cluster.client(nil, false).(*redis.ClusterClient)
	defer crdb.Close()
	if co := crdb.Options(); co.ReadBufferSize != connBuffer || co.PipelineReadBufferSize != pipelineBuffer {
		t.Errorf("cluster buffers %d, pipeline %d", co.ReadBufferSize, co.PipelineReadBufferSize)
	}
}
