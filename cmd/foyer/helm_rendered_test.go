package main

import (
	"errors"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// What helm_test.go reads: the objects Helm rendered, decoded as far as
// the tests look, and the parts of deploy/nginx/foyer.conf the Ingress
// must match.

// checkIngressAgainstNginx holds the Ingresses to deploy/nginx/foyer.conf:
// each of its locations has an Ingress path with the same body cap, and
// the timeouts are at least foyer.conf's and above the gateway's idle
// timeout.
func checkIngressAgainstNginx(t *testing.T, ingresses []ingress, gateway container) {
	t.Helper()
	conf := readNginxConfig(t)
	caps := map[string]string{} // Ingress path, as an nginx location, to its body cap
	for _, ing := range ingresses {
		a := ing.Metadata.Annotations
		for _, rule := range ing.Spec.Rules {
			if rule.Host == "" {
				t.Errorf("Ingress %s has a rule without a host", ing.Metadata.Name)
			}
			for _, p := range rule.HTTP.Paths {
				caps[nginxLocation(p.Path, p.PathType)] = a["nginx.ingress.kubernetes.io/proxy-body-size"]
			}
		}
		idle := 60 * time.Second
		if e, ok := gateway.env("FOYER_WS_IDLE_TIMEOUT"); ok && e.Value != nil {
			var err error
			if idle, err = time.ParseDuration(*e.Value); err != nil {
				t.Fatalf("FOYER_WS_IDLE_TIMEOUT=%q: %v", *e.Value, err)
			}
		}
		for _, key := range []string{"proxy-read-timeout", "proxy-send-timeout"} {
			got, err := strconv.Atoi(a["nginx.ingress.kubernetes.io/"+key])
			if err != nil {
				t.Errorf("Ingress %s: %s is %q: %v", ing.Metadata.Name, key, a["nginx.ingress.kubernetes.io/"+key], err)
				continue
			}
			timeout := time.Duration(got) * time.Second
			if timeout < conf.proxyTimeout || timeout < idle+15*time.Second {
				t.Errorf("Ingress %s: %s %s; want at least foyer.conf's %s and the idle timeout %s plus 15 s", ing.Metadata.Name, key, timeout, conf.proxyTimeout, idle)
			}
			if idle+15*time.Second <= conf.proxyTimeout && timeout != conf.proxyTimeout {
				t.Errorf("Ingress %s: %s %s; foyer.conf's is %s", ing.Metadata.Name, key, timeout, conf.proxyTimeout)
			}
		}
		if got := a["nginx.ingress.kubernetes.io/proxy-connect-timeout"] + "s"; got != conf.connectTimeout {
			t.Errorf("Ingress %s: proxy-connect-timeout %s; foyer.conf's is %s", ing.Metadata.Name, got, conf.connectTimeout)
		}
	}
	for location, want := range conf.bodyCaps {
		if got, ok := caps[location]; !ok {
			t.Errorf("foyer.conf's location %q has no Ingress path", location)
		} else if got != want {
			t.Errorf("location %q: the Ingress caps bodies at %q; foyer.conf at %q", location, got, want)
		}
	}
	for location := range caps {
		if _, ok := conf.bodyCaps[location]; !ok {
			t.Errorf("the Ingress routes %q, which foyer.conf has no location for", location)
		}
	}
}

// nginxLocation writes an Ingress path as foyer.conf's location for it.
func nginxLocation(path, pathType string) string {
	switch pathType {
	case "Exact":
		return "= " + path
	case "ImplementationSpecific": // a regex, which ingress-nginx anchors at the start
		return "~ ^" + path
	}
	return path
}

type nginxConfig struct {
	proxyTimeout   time.Duration
	connectTimeout string
	bodyCaps       map[string]string // location to client_max_body_size
}

// readNginxConfig reads the timeouts and each location's body cap (the
// server's where the location sets none) of deploy/nginx/foyer.conf.
func readNginxConfig(t *testing.T) nginxConfig {
	t.Helper()
	raw, err := os.ReadFile(nginxConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	directive := func(name string) string {
		m := regexp.MustCompile(`(?m)^\s*` + name + `\s+([^;]+);`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("foyer.conf has no %s", name)
		}
		return m[1]
	}
	conf := nginxConfig{connectTimeout: directive("proxy_connect_timeout"), bodyCaps: map[string]string{}}
	if conf.proxyTimeout, err = time.ParseDuration(directive("proxy_read_timeout")); err != nil {
		t.Fatal(err)
	}
	if send := directive("proxy_send_timeout"); send != directive("proxy_read_timeout") {
		t.Fatalf("foyer.conf's send timeout %s differs from its read timeout; the test reads one", send)
	}
	serverCap := directive("client_max_body_size")
	for _, m := range regexp.MustCompile(`(?s)location\s+([^{]+?)\s*\{(.*?)\}`).FindAllStringSubmatch(text, -1) {
		location := m[1]
		if strings.HasPrefix(location, "@") {
			continue // a named location answers errors; no route goes there
		}
		bodyCap := serverCap
		if c := regexp.MustCompile(`client_max_body_size\s+([^;]+);`).FindStringSubmatch(m[2]); c != nil {
			bodyCap = c[1]
		}
		conf.bodyCaps[location] = bodyCap
	}
	if len(conf.bodyCaps) < 5 {
		t.Fatalf("found %d locations in foyer.conf; has its layout changed?", len(conf.bodyCaps))
	}
	return conf
}

// What the tests read of the rendered objects.
type (
	objectMeta struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	}
	podSpec struct {
		TerminationGracePeriodSeconds int         `yaml:"terminationGracePeriodSeconds"`
		RestartPolicy                 string      `yaml:"restartPolicy"`
		Containers                    []container `yaml:"containers"`
	}
	podTemplate struct {
		Metadata objectMeta `yaml:"metadata"`
		Spec     podSpec    `yaml:"spec"`
	}
	deployment struct {
		Metadata objectMeta `yaml:"metadata"`
		Spec     struct {
			Replicas int `yaml:"replicas"`
			Strategy struct {
				RollingUpdate struct {
					MaxUnavailable int `yaml:"maxUnavailable"`
				} `yaml:"rollingUpdate"`
			} `yaml:"strategy"`
			Template podTemplate `yaml:"template"`
		} `yaml:"spec"`
	}
	job struct {
		Metadata objectMeta `yaml:"metadata"`
		Spec     struct {
			Template podTemplate `yaml:"template"`
		} `yaml:"spec"`
	}
	container struct {
		Name  string   `yaml:"name"`
		Args  []string `yaml:"args"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		Env            []envVar `yaml:"env"`
		ReadinessProbe *probe   `yaml:"readinessProbe"`
		LivenessProbe  *probe   `yaml:"livenessProbe"`
		Lifecycle      struct {
			PreStop struct {
				Sleep struct {
					Seconds int `yaml:"seconds"`
				} `yaml:"sleep"`
			} `yaml:"preStop"`
		} `yaml:"lifecycle"`
	}
	envVar struct {
		Name      string  `yaml:"name"`
		Value     *string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name     string `yaml:"name"`
				Key      string `yaml:"key"`
				Optional bool   `yaml:"optional"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	}
	probe struct {
		HTTPGet struct {
			Path string `yaml:"path"`
			Port string `yaml:"port"` // a name or a number
		} `yaml:"httpGet"`
	}
	service struct {
		Metadata objectMeta `yaml:"metadata"`
		Spec     struct {
			Ports []struct {
				Name       string `yaml:"name"`
				Port       int    `yaml:"port"`
				TargetPort string `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	ingress struct {
		Metadata objectMeta `yaml:"metadata"`
		Spec     struct {
			Rules []struct {
				Host string `yaml:"host"`
				HTTP struct {
					Paths []struct {
						Path     string `yaml:"path"`
						PathType string `yaml:"pathType"`
						Backend  struct {
							Service struct {
								Name string `yaml:"name"`
								Port struct {
									Name   string `yaml:"name"`
									Number int    `yaml:"number"`
								} `yaml:"port"`
							} `yaml:"service"`
						} `yaml:"backend"`
					} `yaml:"paths"`
				} `yaml:"http"`
			} `yaml:"rules"`
		} `yaml:"spec"`
	}
	labelSelector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	}
	pdb struct {
		Metadata objectMeta `yaml:"metadata"`
		Spec     struct {
			Selector labelSelector `yaml:"selector"`
		} `yaml:"spec"`
	}
	serviceMonitor struct {
		Metadata objectMeta `yaml:"metadata"`
		Spec     struct {
			Selector  labelSelector `yaml:"selector"`
			Endpoints []struct {
				Port string `yaml:"port"`
			} `yaml:"endpoints"`
		} `yaml:"spec"`
	}
)

func (c container) env(name string) (envVar, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e, true
		}
	}
	return envVar{}, false
}

// port is the number of a container port given by name or number.
func (c container) port(nameOrNumber string) int {
	for _, p := range c.Ports {
		if p.Name == nameOrNumber {
			return p.ContainerPort
		}
	}
	n, _ := strconv.Atoi(nameOrNumber)
	return n
}

func (d deployment) container(t *testing.T) container {
	t.Helper()
	if n := len(d.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("Deployment %s has %d containers, want 1", d.Metadata.Name, n)
	}
	return d.Spec.Template.Spec.Containers[0]
}

// rendered is helm template's output: each object's kind and its YAML.
type rendered []struct {
	kind string
	node *yaml.Node
}

func parseRendered(t *testing.T, out string) rendered {
	t.Helper()
	var objs rendered
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var node yaml.Node
		if err := dec.Decode(&node); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("helm template rendered YAML that does not parse: %v", err)
		}
		var head struct {
			Kind string `yaml:"kind"`
		}
		if err := node.Decode(&head); err != nil {
			t.Fatal(err)
		}
		if head.Kind != "" {
			objs = append(objs, struct {
				kind string
				node *yaml.Node
			}{head.Kind, &node})
		}
	}
	return objs
}

func (r rendered) count(kind string) int {
	n := 0
	for _, o := range r {
		if o.kind == kind {
			n++
		}
	}
	return n
}

// one decodes the one object of a kind named name into v.
func (r rendered) one(t *testing.T, kind, name string, v any) {
	t.Helper()
	for _, o := range r {
		var head struct {
			Metadata objectMeta `yaml:"metadata"`
		}
		if err := o.node.Decode(&head); err != nil {
			t.Fatal(err)
		}
		if o.kind == kind && head.Metadata.Name == name {
			if err := o.node.Decode(v); err != nil {
				t.Fatalf("%s %s: %v", kind, name, err)
			}
			return
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
}

func (r rendered) deployment(t *testing.T, component string) deployment {
	var d deployment
	r.one(t, "Deployment", releaseName+"-"+component, &d)
	return d
}

func (r rendered) job(t *testing.T, component string) job {
	var j job
	r.one(t, "Job", releaseName+"-"+component, &j)
	return j
}

func (r rendered) service(t *testing.T, name string) service {
	var s service
	r.one(t, "Service", name, &s)
	return s
}

func (r rendered) pdb(t *testing.T, component string) pdb {
	var p pdb
	r.one(t, "PodDisruptionBudget", releaseName+"-"+component, &p)
	return p
}

func (r rendered) serviceMonitor(t *testing.T, component string) serviceMonitor {
	var sm serviceMonitor
	r.one(t, "ServiceMonitor", releaseName+"-"+component, &sm)
	return sm
}

func (r rendered) ingresses(t *testing.T) []ingress {
	t.Helper()
	var all []ingress
	for _, o := range r {
		if o.kind == "Ingress" {
			var ing ingress
			if err := o.node.Decode(&ing); err != nil {
				t.Fatal(err)
			}
			all = append(all, ing)
		}
	}
	return all
}
