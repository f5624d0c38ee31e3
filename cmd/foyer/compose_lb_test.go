package main

// deploy/compose.lb.yml, the variant with three gateways behind nginx, read
// as compose_test.go reads docker-compose.yml (no Docker engine runs here)
// and checked against the program and against the nginx config it mounts.

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

const (
	composeLBPath = "../../deploy/compose.lb.yml"
	composeLBDir  = "../../deploy" // paths in the file are relative to it
)

// lbGateways are the gateway services of the variant.
var lbGateways = []string{"gateway-1", "gateway-2", "gateway-3"}

// composeNetworks is the part of a compose file the base types leave out:
// services' fixed addresses and the networks' subnets.
type composeNetworks struct {
	Services map[string]struct {
		Networks map[string]struct {
			IPv4Address string `yaml:"ipv4_address"`
		} `yaml:"networks"`
	} `yaml:"services"`
	Networks map[string]struct {
		IPAM struct {
			Config []struct {
				Subnet string `yaml:"subnet"`
			} `yaml:"config"`
		} `yaml:"ipam"`
	} `yaml:"networks"`
}

func loadComposeLB(t *testing.T) (composeFile, composeNetworks) {
	t.Helper()
	data, err := os.ReadFile(composeLBPath)
	if err != nil {
		t.Fatalf("read the compose file: %v", err)
	}
	var c composeFile
	var n composeNetworks
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("deploy/compose.lb.yml is not valid YAML: %v", err)
	}
	if err := yaml.Unmarshal(data, &n); err != nil {
		t.Fatalf("deploy/compose.lb.yml: %v", err)
	}
	return c, n
}

func TestComposeLBPutsThreeGatewaysBehindNginx(t *testing.T) {
	compose, nets := loadComposeLB(t)
	svc := compose.Services
	for _, name := range append([]string{"redis", "postgres", "migrate", "worker", "nginx"}, lbGateways...) {
		if _, ok := svc[name]; !ok {
			t.Fatalf("deploy/compose.lb.yml: no service %q", name)
		}
	}
	pgEnv := environment(t, "postgres", svc["postgres"])
	address := func(service string) string {
		return nets.Services[service].Networks["default"].IPv4Address
	}

	t.Run("redis keeps every write", func(t *testing.T) {
		args := command(t, "redis", svc["redis"])
		if !hasOption(args, "--appendonly", "yes") || !hasOption(args, "--appendfsync", "always") {
			t.Errorf("services.redis.command = %q: want --appendonly yes --appendfsync always", args)
		}
	})

	t.Run("every gateway runs this module's serve, with its own node ID, unpublished", func(t *testing.T) {
		ids := map[string]string{}
		for _, name := range lbGateways {
			s := svc[name]
			if ctx, ok := buildContext(s.Build); !ok || filepath.Clean(ctx) != ".." {
				t.Errorf("services.%s.build = %v, want the module root (\"..\" from deploy/)", name, s.Build)
			}
			if args := command(t, name, s); !slices.Equal(args, []string{"serve"}) {
				t.Errorf("services.%s.command = %q, want [serve]", name, args)
			}
			env := environment(t, name, s)
			for _, key := range []string{"FOYER_REDIS_URL", "FOYER_DATABASE_URL", "FOYER_ADMIN_TOKEN", "FOYER_SIGNING_KEYS", "FOYER_PAYMENT_WEBHOOK_SECRET"} {
				if _, ok := env[key]; !ok {
					t.Errorf("services.%s.environment: %s is missing", name, key)
				}
			}
			for key, raw := range env {
				if strings.HasPrefix(key, "FOYER_") && !slices.Contains(knownEnv, key) {
					t.Errorf("services.%s.environment: %s is not a setting foyer reads", name, key)
				}
				checkSetting(t, name, key, raw, pgEnv)
			}
			id := interpolate(env["FOYER_NODE_ID"])
			if id == "" || ids[id] != "" {
				t.Errorf("services.%s: FOYER_NODE_ID %q, want one of its own (%s has it)", name, id, ids[id])
			}
			ids[id] = name
			for _, p := range s.Ports {
				if spec, ok := p.(string); !ok || !strings.HasPrefix(spec, "127.0.0.1:") || !strings.HasSuffix(spec, ":9090") {
					t.Errorf("services.%s.ports has %v: a gateway publishes its ops port on loopback, nothing else (shoppers come through nginx)", name, p)
				}
			}
			if d, err := time.ParseDuration(s.StopGracePeriod); err != nil || d <= defaultShutdownGrace {
				t.Errorf("services.%s.stop_grace_period = %q, want longer than FOYER_SHUTDOWN_GRACE %v", name, s.StopGracePeriod, defaultShutdownGrace)
			}
			if address(name) == "" {
				t.Errorf("services.%s has no fixed address: nginx resolves it once, at its start", name)
			}
		}
	})

	t.Run("the gateways trust nginx's address and no other", func(t *testing.T) {
		lb := address("nginx")
		ip, err := netip.ParseAddr(lb)
		if err != nil {
			t.Fatalf("services.nginx.networks.default.ipv4_address = %q: %v", lb, err)
		}
		var subnets []string
		for _, c := range nets.Networks["default"].IPAM.Config {
			subnets = append(subnets, c.Subnet)
		}
		if len(subnets) != 1 {
			t.Fatalf("networks.default.ipam.config: subnets %v, want one fixed subnet", subnets)
		}
		if p, err := netip.ParsePrefix(subnets[0]); err != nil || !p.Contains(ip) {
			t.Errorf("nginx's address %s is not in the network's subnet %s", lb, subnets[0])
		}
		for _, name := range lbGateways {
			if got := interpolate(environment(t, name, svc[name])["FOYER_TRUSTED_PROXIES"]); got != lb {
				t.Errorf("services.%s: FOYER_TRUSTED_PROXIES=%q, want nginx's address %s alone", name, got, lb)
			}
		}
	})

	t.Run("nginx serves the deploy config, in front of exactly these gateways", func(t *testing.T) {
		nginx := svc["nginx"]
		if repo, _, pinned := splitImage(nginx.Image); repo != "nginx" || !pinned {
			t.Errorf("services.nginx.image = %q, want the official nginx image, pinned", nginx.Image)
		}
		var conf string
		for _, v := range nginx.Volumes {
			source, target, named, err := parseVolume(v)
			if err == nil && !named && target == "/etc/nginx/nginx.conf" {
				conf = filepath.Join(composeLBDir, source)
			}
		}
		if conf == "" {
			t.Fatalf("services.nginx.volumes = %v: want a file mounted at /etc/nginx/nginx.conf", nginx.Volumes)
		}
		raw, err := os.ReadFile(conf)
		if err != nil {
			t.Fatalf("the nginx config mounted: %v", err)
		}
		upstreams := regexp.MustCompile(`(?m)^\s*server\s+([^\s;{]+)[^{\n]*;`).FindAllStringSubmatch(string(raw), -1)
		var servers []string
		for _, m := range upstreams {
			if !slices.Contains(servers, m[1]) { // each upstream block balances the same gateways
				servers = append(servers, m[1])
			}
		}
		var want []string
		for _, name := range lbGateways {
			port := interpolate(environment(t, name, svc[name])["FOYER_HTTP_ADDR"])
			want = append(want, name+port[strings.LastIndex(port, ":"):])
		}
		if !slices.Equal(servers, want) {
			t.Errorf("%s balances %v, want the gateways at their FOYER_HTTP_ADDR %v", conf, servers, want)
		}
		listen := regexp.MustCompile(`(?m)^\s*listen\s+(\d+)\s*;`).FindStringSubmatch(string(raw))
		published := false
		for _, p := range nginx.Ports {
			pub, target, err := parsePort(p)
			if err == nil && pub == "8080" && listen != nil && target == listen[1] {
				published = true
			}
		}
		if !published {
			t.Errorf("services.nginx.ports = %v: want 8080 published to the port the config listens on (%v)", nginx.Ports, listen)
		}
		deps := dependsOn(t, "nginx", nginx)
		for _, name := range lbGateways {
			if _, ok := deps[name]; !ok {
				t.Errorf("services.nginx.depends_on lacks %s: nginx fails to start on a name it cannot resolve", name)
			}
		}
		// The public URL shoppers are sent to is nginx's.
		for _, name := range lbGateways {
			if u := interpolate(environment(t, name, svc[name])["FOYER_PUBLIC_URL"]); u != "http://localhost:8080" {
				t.Errorf("services.%s: FOYER_PUBLIC_URL=%q, want nginx's http://localhost:8080", name, u)
			}
		}
	})

	t.Run("the worker's payment webhook goes through nginx", func(t *testing.T) {
		env := environment(t, "worker", svc["worker"])
		if u := interpolate(env["FOYER_PAYMENT_WEBHOOK_URL"]); !strings.HasPrefix(u, "http://nginx/") {
			t.Errorf("services.worker: FOYER_PAYMENT_WEBHOOK_URL=%q, want it through nginx", u)
		}
		if id := interpolate(env["FOYER_NODE_ID"]); id == "" || slices.Contains(lbGateways, id) {
			t.Errorf("services.worker: FOYER_NODE_ID %q, want a fixed name of its own", id)
		}
	})
}
