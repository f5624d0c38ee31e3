package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/foyerhq/foyer/internal/app"
)

// The Helm chart in deploy/helm/foyer (docs/scaling-k8s.md), linted and
// rendered by Helm itself, pinned by the module in deploy/helm/tool; `make
// test` builds it into bin/ first. No cluster runs where the tests do, so
// they read what Helm renders and hold it to the program, the README and
// deploy/nginx/foyer.conf.
const (
	chartDir        = "../../deploy/helm/foyer"
	productionPath  = "../../deploy/helm/foyer/ci/production-values.yaml"
	helmBuilt       = "../../bin/helm"
	helmModuleDir   = "../../deploy/helm/tool"
	readmePath      = "../../README.md"
	nginxConfigPath = "../../deploy/nginx/foyer.conf"
	releaseName     = "foyer"
)

// helm is the path of a helm binary: make's, or one built now into the
// same place (bin/, which git ignores), so the next call finds it.
func helm(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(helmBuilt); err == nil {
		return helmBuilt
	}
	t.Logf("building helm from %s (minutes the first time: make test builds it beforehand)", helmModuleDir)
	if err := os.MkdirAll(filepath.Dir(helmBuilt), 0o755); err != nil {
		t.Fatal(err)
	}
	// Built beside, then renamed: a helm half written is never run.
	partial, err := filepath.Abs(helmBuilt + ".partial")
	if err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", partial, "helm.sh/helm/v4/cmd/helm")
	build.Dir = helmModuleDir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build helm: %v\n%s", err, out)
	}
	if err := os.Rename(partial, helmBuilt); err != nil {
		t.Fatal(err)
	}
	return helmBuilt
}

// runHelm runs helm with its own homes in a temporary folder, so a test
// neither reads nor writes the machine's Helm settings. It returns stdout,
// and stderr with the error.
func runHelm(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(helm(t), args...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// writeValues writes a values file for one test and returns its path.
func writeValues(t *testing.T, values string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(path, []byte(values), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTheHelmChartLintsStrictly: helm lint --strict, warnings failing it,
// with the chart's defaults and with the production-like values.
func TestTheHelmChartLintsStrictly(t *testing.T) {
	for _, args := range [][]string{
		{"lint", "--strict", chartDir},
		{"lint", "--strict", chartDir, "-f", productionPath},
	} {
		out, stderr, err := runHelm(t, args...)
		if err != nil || !strings.Contains(out, "0 chart(s) failed") {
			t.Errorf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
		}
	}
}

// The renderings the tests read: the defaults, the defaults with the Ingress
// on (whose annotations must then equal foyer.conf's), and a production-like
// setup.
var chartRenderings = []struct {
	name       string
	valuesFile string // a path, or "" for the defaults
	values     string // more values, as YAML
	gateways   int
}{
	{name: "defaults", gateways: 2},
	{name: "defaults with the Ingress on", values: "ingress: {enabled: true, host: queue.example.com}\n", gateways: 2},
	{name: "production", valuesFile: productionPath, gateways: 3},
}

// TestTheHelmChartRendersWhatFoyerNeeds renders the chart and checks what
// matters of each rendering: the settings are the program's and load, the
// secrets are referenced and never inlined, the gateways are probed on
// /readyz and drain before they are killed, the migration runs as a hook,
// and the ops ports stay off the shoppers' Service and the Ingress.
func TestTheHelmChartRendersWhatFoyerNeeds(t *testing.T) {
	documented := readmeSettings(t)
	for _, r := range chartRenderings {
		t.Run(r.name, func(t *testing.T) {
			args := []string{"template", releaseName, chartDir, "--namespace", "foyer"}
			if r.valuesFile != "" {
				args = append(args, "-f", r.valuesFile)
			}
			if r.values != "" {
				args = append(args, "-f", writeValues(t, r.values))
			}
			out, stderr, err := runHelm(t, args...)
			if err != nil {
				t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr)
			}
			objs := parseRendered(t, out)
			gateway := objs.deployment(t, "gateway")
			worker := objs.deployment(t, "worker")
			migrate := objs.job(t, "migrate")

			t.Run("every setting is one the README documents, and the program loads it", func(t *testing.T) {
				for _, c := range []container{gateway.container(t), worker.container(t), migrate.Spec.Template.Spec.Containers[0]} {
					environ := map[string]string{}
					for _, e := range c.Env {
						if !documented[e.Name] {
							t.Errorf("%s sets %s, which README's configuration table does not list", c.Name, e.Name)
						}
						if e.Value != nil {
							environ[e.Name] = *e.Value
						}
					}
					if _, err := app.LoadConfig(environ); err != nil {
						t.Errorf("%s's settings: %v", c.Name, err)
					}
				}
			})

			t.Run("secrets are referenced from the operator's Secret, never inlined", func(t *testing.T) {
				if n := objs.count("Secret"); n != 0 {
					t.Errorf("the chart renders %d Secret(s); it must only read the operator's", n)
				}
				for _, c := range []container{gateway.container(t), worker.container(t), migrate.Spec.Template.Spec.Containers[0]} {
					for _, e := range c.Env {
						if !chartSecrets[e.Name] {
							continue
						}
						if e.Value != nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
							t.Errorf("%s: %s is not read from a Secret", c.Name, e.Name)
							continue
						}
						if ref := e.ValueFrom.SecretKeyRef; ref.Key != e.Name || ref.Name == "" {
							t.Errorf("%s: %s reads key %q of Secret %q; want its own name as the key", c.Name, e.Name, ref.Key, ref.Name)
						}
					}
				}
				for _, c := range []struct {
					container container
					needs     []string
				}{
					{gateway.container(t), []string{"FOYER_REDIS_URL", "FOYER_DATABASE_URL", "FOYER_ADMIN_TOKEN", "FOYER_SIGNING_KEYS", "FOYER_PAYMENT_WEBHOOK_SECRET"}},
					{worker.container(t), []string{"FOYER_REDIS_URL", "FOYER_DATABASE_URL", "FOYER_PAYMENT_WEBHOOK_SECRET"}},
					{migrate.Spec.Template.Spec.Containers[0], []string{"FOYER_DATABASE_URL"}},
				} {
					for _, name := range c.needs {
						e, ok := c.container.env(name)
						if !ok || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Optional {
							t.Errorf("%s does not read %s from the Secret, required", c.container.Name, name)
						}
					}
				}
			})

			t.Run("gateways are probed on /readyz and /healthz", func(t *testing.T) {
				if gateway.Spec.Replicas != r.gateways {
					t.Errorf("%d gateways, want %d", gateway.Spec.Replicas, r.gateways)
				}
				c := gateway.container(t)
				if !slices.Equal(c.Args, []string{"serve"}) || !slices.Equal(worker.container(t).Args, []string{"worker"}) {
					t.Errorf("gateway args %q, worker args %q: want serve and worker", c.Args, worker.container(t).Args)
				}
				if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.port(c.ReadinessProbe.HTTPGet.Port) != 8080 {
					t.Errorf("gateway readiness probe %+v: want GET /readyz on 8080", c.ReadinessProbe)
				}
				if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.port(c.LivenessProbe.HTTPGet.Port) != 8080 {
					t.Errorf("gateway liveness probe %+v: want GET /healthz on 8080", c.LivenessProbe)
				}
				if addr, _ := c.env("FOYER_HTTP_ADDR"); addr.Value == nil || *addr.Value != ":8080" {
					t.Errorf("gateway FOYER_HTTP_ADDR is not :8080, where its probes and Service go")
				}
				pdb := objs.pdb(t, "gateway")
				if !selects(pdb.Spec.Selector.MatchLabels, gateway.Spec.Template.Metadata.Labels) {
					t.Errorf("the PodDisruptionBudget selects %v, not the gateways (%v)", pdb.Spec.Selector.MatchLabels, gateway.Spec.Template.Metadata.Labels)
				}
			})

			t.Run("a gateway drains before it is killed", func(t *testing.T) {
				c := gateway.container(t)
				grace, ok := c.env("FOYER_SHUTDOWN_GRACE")
				if !ok || grace.Value == nil {
					t.Fatal("the gateway has no FOYER_SHUTDOWN_GRACE")
				}
				shutdown, err := time.ParseDuration(*grace.Value)
				if err != nil {
					t.Fatalf("FOYER_SHUTDOWN_GRACE=%q: %v", *grace.Value, err)
				}
				sleep := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
				if sleep <= 0 {
					t.Errorf("no preStop sleep: the Service and the Ingress would still send a draining gateway new connections")
				}
				kill := time.Duration(gateway.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
				if kill <= sleep+shutdown {
					t.Errorf("terminationGracePeriodSeconds %s is not more than the preStop sleep %s plus FOYER_SHUTDOWN_GRACE %s", kill, sleep, shutdown)
				}
				if s := gateway.Spec.Strategy.RollingUpdate; s.MaxUnavailable != 0 {
					t.Errorf("a rolling update takes %d gateways down before new ones are ready; want 0", s.MaxUnavailable)
				}
			})

			t.Run("the migration runs as a hook before install and upgrade", func(t *testing.T) {
				hooks := strings.Split(migrate.Metadata.Annotations["helm.sh/hook"], ",")
				if !slices.Contains(hooks, "pre-install") || !slices.Contains(hooks, "pre-upgrade") {
					t.Errorf("the migration Job's helm.sh/hook is %q: want pre-install and pre-upgrade", migrate.Metadata.Annotations["helm.sh/hook"])
				}
				if args := migrate.Spec.Template.Spec.Containers[0].Args; !slices.Equal(args, []string{"migrate"}) {
					t.Errorf("the migration Job runs %q, want [migrate]", args)
				}
				if p := migrate.Spec.Template.Spec.RestartPolicy; p != "Never" && p != "OnFailure" {
					t.Errorf("the migration Job's restartPolicy is %q", p)
				}
			})

			t.Run("the ops ports are on their own named port and off the Ingress", func(t *testing.T) {
				for _, tc := range []struct {
					c       container
					addrVar string
					port    int
				}{{gateway.container(t), "FOYER_METRICS_ADDR", 9090}, {worker.container(t), "FOYER_WORKER_METRICS_ADDR", 9091}} {
					if got := tc.c.port("ops"); got != tc.port {
						t.Errorf("%s's port ops is %d, want %d", tc.c.Name, got, tc.port)
					}
					want := "0.0.0.0:" + strconv.Itoa(tc.port)
					if e, _ := tc.c.env(tc.addrVar); e.Value == nil || *e.Value != want {
						t.Errorf("%s's %s is not %s: Prometheus could not reach it", tc.c.Name, tc.addrVar, want)
					}
				}
				shoppers := objs.service(t, releaseName+"-gateway")
				for _, p := range shoppers.Spec.Ports {
					if p.TargetPort != "http" {
						t.Errorf("the gateways' Service exposes port %s (target %v); only http belongs there", p.Name, p.TargetPort)
					}
				}
				for _, ing := range objs.ingresses(t) {
					for _, rule := range ing.Spec.Rules {
						for _, path := range rule.HTTP.Paths {
							b := path.Backend.Service
							if b.Name != shoppers.Metadata.Name || b.Port.Name != "http" {
								t.Errorf("Ingress %s sends %s to %s port %q/%d; want %s port http", ing.Metadata.Name, path.Path, b.Name, b.Port.Name, b.Port.Number, shoppers.Metadata.Name)
							}
						}
					}
				}
			})

			t.Run("the Ingress keeps foyer.conf's timeouts and body caps", func(t *testing.T) {
				ingresses := objs.ingresses(t)
				if r.name == "defaults" {
					if len(ingresses) != 0 {
						t.Errorf("%d Ingresses with the defaults; the Ingress is off by default", len(ingresses))
					}
					return
				}
				checkIngressAgainstNginx(t, ingresses, gateway.container(t))
			})

			t.Run("production: ServiceMonitors and a NetworkPolicy for the ops ports", func(t *testing.T) {
				if r.valuesFile == "" {
					if n := objs.count("ServiceMonitor"); n != 0 {
						t.Errorf("%d ServiceMonitors with the defaults; they need the Prometheus Operator, so are off by default", n)
					}
					return
				}
				for _, component := range []string{"gateway", "worker"} {
					sm := objs.serviceMonitor(t, component)
					if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "ops" {
						t.Errorf("ServiceMonitor %s scrapes %+v, want the port ops", sm.Metadata.Name, sm.Spec.Endpoints)
					}
					ops := objs.service(t, releaseName+"-"+component+"-ops")
					if !selects(sm.Spec.Selector.MatchLabels, ops.Metadata.Labels) {
						t.Errorf("ServiceMonitor %s selects %v, not Service %s (%v)", sm.Metadata.Name, sm.Spec.Selector.MatchLabels, ops.Metadata.Name, ops.Metadata.Labels)
					}
					if objs.count("NetworkPolicy") != 2 {
						t.Errorf("%d NetworkPolicies, want one per component", objs.count("NetworkPolicy"))
					}
				}
			})
		})
	}
}

// chartSecrets are the settings the chart must read from the operator's
// Secret: the secrets, and the Redis and Postgres URLs, which carry passwords.
var chartSecrets = map[string]bool{
	"FOYER_REDIS_URL": true, "FOYER_DATABASE_URL": true, "FOYER_ADMIN_TOKEN": true, "FOYER_SIGNING_KEYS": true,
	"FOYER_PAYMENT_WEBHOOK_SECRET": true, "FOYER_POW_SECRET": true, "FOYER_IDENTITY_HS256_SECRET": true,
	"FOYER_STRIPE_SECRET_KEY": true, "FOYER_STRIPE_WEBHOOK_SECRET": true,
}

// chartManaged are the settings the chart sets itself from the pod (listen
// addresses, node ID) or from its own values (the shutdown grace, kept below
// the pod's termination grace); devOnly are `foyer dev`'s alone.
var (
	chartManaged = []string{"FOYER_HTTP_ADDR", "FOYER_METRICS_ADDR", "FOYER_WORKER_METRICS_ADDR", "FOYER_NODE_ID", "FOYER_SHUTDOWN_GRACE"}
	devOnly      = []string{"FOYER_DATA_DIR", "FOYER_DEMO_SALE", "FOYER_DEMO_SHOP_URL"}
)

// TestTheHelmChartLetsValuesSetEveryOperatorSetting: every setting of
// README's table is one the chart's values may set (the schema's config), a
// secret read from the Secret, one the chart sets itself, or `foyer dev`'s;
// a new setting fails here until the chart knows it.
func TestTheHelmChartLetsValuesSetEveryOperatorSetting(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Defs struct {
			Config struct {
				Properties map[string]any `yaml:"properties"`
			} `yaml:"config"`
		} `yaml:"$defs"`
	}
	if err := yaml.Unmarshal(raw, &schema); err != nil { // JSON is YAML
		t.Fatalf("values.schema.json: %v", err)
	}
	covered := map[string]string{}
	for name := range schema.Defs.Config.Properties {
		covered[name] = "the schema's config"
	}
	for name := range chartSecrets {
		covered[name] = "the Secret"
	}
	for _, name := range chartManaged {
		covered[name] = "the chart"
	}
	for _, name := range devOnly {
		covered[name] = "foyer dev"
	}
	documented := readmeSettings(t)
	for name := range documented {
		if _, ok := covered[name]; !ok {
			t.Errorf("README lists %s, which the chart neither sets nor lets values set (values.schema.json, $defs.config)", name)
		}
	}
	for name, where := range covered {
		if !documented[name] {
			t.Errorf("%s names %s, which README's configuration table does not list", where, name)
		}
		if where == "the schema's config" && chartSecrets[name] {
			t.Errorf("the schema lets values set %s, a secret", name)
		}
	}
}

// TestTheHelmChartRefusesBadValuesSayingWhy: values the chart cannot run
// with fail `helm template`, the schema or the chart's own checks naming
// the value and why, and nothing is rendered.
func TestTheHelmChartRefusesBadValuesSayingWhy(t *testing.T) {
	for _, tc := range []struct {
		name, values, want string
	}{
		{"negative gateway replicas", "gateway: {replicas: -1}", "at '/gateway/replicas': minimum: got -1, want 1"},
		{"an Ingress without a host", "ingress: {enabled: true}", "at '/ingress/host': minLength: got 0, want 1"},
		{"a URL for a host", "ingress: {enabled: true, host: 'https://queue.example.com/'}", "at '/ingress/host': 'https://queue.example.com/' does not match pattern"},
		{"a secret in the values", "config: {FOYER_ADMIN_TOKEN: 0123456789abcdef0123456789abcdef}", "at '/config': additional properties 'FOYER_ADMIN_TOKEN' not allowed"},
		{"the Redis URL in the values", "gateway: {config: {FOYER_REDIS_URL: 'redis://:pw@redis:6379/0'}}", "at '/gateway/config': additional properties 'FOYER_REDIS_URL' not allowed"},
		{"a setting misspelt", "config: {FOYER_MAX_CONECTIONS: 100}", "additional properties 'FOYER_MAX_CONECTIONS' not allowed"},
		{"an idle timeout without its unit", "config: {FOYER_WS_IDLE_TIMEOUT: 60}", "at '/config/FOYER_WS_IDLE_TIMEOUT': got number, want string"},
		{"a payment provider Foyer lacks", "config: {FOYER_PAYMENT_PROVIDER: paypal}", "at '/config/FOYER_PAYMENT_PROVIDER'"},
		{"no Secret named", "existingSecret: ''", "at '/existingSecret': minLength: got 0, want 1"},
		{"a NetworkPolicy open to every pod", "metrics: {networkPolicy: {enabled: true}}", "at '/metrics/networkPolicy/from': minItems: got 0, want 1"},
		{"a gateway killed before it drains", "gateway: {terminationGracePeriodSeconds: 12}",
			"gateway.terminationGracePeriodSeconds (12) must be more than gateway.preStopSleepSeconds (5) plus gateway.shutdownGraceSeconds (10)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, err := runHelm(t, "template", releaseName, chartDir, "-f", writeValues(t, tc.values))
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("helm template with %s: %v, want it refused\n%s", tc.values, err, out)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("helm template with %s says:\n%s\nwant it to say %q", tc.values, stderr, tc.want)
			}
			if strings.Contains(out, "kind:") {
				t.Errorf("helm template with %s still rendered:\n%s", tc.values, out)
			}
		})
	}
}

// readmeSettings are the variables of README's configuration table.
func readmeSettings(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) > 3 && strings.HasPrefix(strings.TrimSpace(cells[1]), "`FOYER_") {
			names[strings.Trim(strings.TrimSpace(cells[1]), "`")] = true
		}
	}
	if len(names) < 40 {
		t.Fatalf("found %d settings in README's configuration table; has its layout changed?", len(names))
	}
	return names
}

// selects says whether a selector's labels are all among labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}
