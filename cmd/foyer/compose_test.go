package main

// No Docker engine runs where these tests do, so nothing here builds an image
// or starts a container. Instead the tests read Dockerfile, .dockerignore and
// docker-compose.yml at the module root and check them against what the
// program needs: the right subcommands, the settings it reads, the services it
// talks to, and the order things must start in.

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/foyerhq/foyer/internal/app"
)

// knownEnv are the environment variables foyer reads, from the env tags of
// its real config. Every FOYER_* variable the compose file sets must be one of
// them, or a typo would go unnoticed (the program ignores variables it does
// not know).
var knownEnv = func() []string {
	var names []string
	for _, v := range app.EnvVars() {
		names = append(names, v.Name)
	}
	return names
}()

const (
	composePath      = "../../docker-compose.yml"
	dockerfilePath   = "../../Dockerfile"
	dockerignorePath = "../../.dockerignore"
	goModPath        = "../../go.mod"
	moduleRoot       = "../.."

	defaultShutdownGrace = 10 * time.Second // FOYER_SHUTDOWN_GRACE's default
)

// The parts of the Compose spec the tests look at. Fields that the spec lets
// take several shapes (a string or a list, a list or a map) are decoded into
// `any` and normalised by the helpers below.
type composeFile struct {
	Version  string                    `yaml:"version"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image           string              `yaml:"image"`
	Build           any                 `yaml:"build"`       // "." or {context: .}
	Command         any                 `yaml:"command"`     // "serve" or ["serve"]
	Entrypoint      any                 `yaml:"entrypoint"`  // must stay unset
	Environment     any                 `yaml:"environment"` // ["K=V"] or {K: V}
	Ports           []any               `yaml:"ports"`       // "8080:8080" or {target, published}
	DependsOn       any                 `yaml:"depends_on"`  // [svc] or {svc: {condition}}
	Volumes         []any               `yaml:"volumes"`     // "name:/path" or {type, source, target}
	Healthcheck     *composeHealthcheck `yaml:"healthcheck"`
	Restart         string              `yaml:"restart"`
	StopGracePeriod string              `yaml:"stop_grace_period"`
}

type composeHealthcheck struct {
	Test    any  `yaml:"test"`
	Disable bool `yaml:"disable"`
}

func TestComposeFileDefinesTheWholeSystem(t *testing.T) {
	compose := loadCompose(t)

	if compose.Version != "" {
		t.Errorf("docker-compose.yml: drop the top-level version: %q; the Compose spec ignores it and warns", compose.Version)
	}

	for _, name := range []string{"redis", "postgres", "migrate", "gateway", "worker"} {
		if _, ok := compose.Services[name]; !ok {
			t.Errorf("docker-compose.yml: no service %q; the system needs redis, postgres, migrate, gateway and worker", name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	svc := compose.Services
	pgEnv := environment(t, "postgres", svc["postgres"])

	t.Run("backing services use pinned images", func(t *testing.T) {
		for _, tc := range []struct{ service, repository string }{
			{"redis", "redis"},
			{"postgres", "postgres"},
		} {
			image := svc[tc.service].Image
			repo, _, pinned := splitImage(image)
			if repo != tc.repository {
				t.Errorf("services.%s.image = %q, want the official %s image", tc.service, image, tc.repository)
			}
			if !pinned {
				t.Errorf("services.%s.image = %q is not pinned: give it a version tag (not latest) or a digest", tc.service, image)
			}
		}
	})

	t.Run("redis keeps every write", func(t *testing.T) {
		// A checkout Foyer confirmed must survive a Redis restart: AOF on,
		// fsynced on every write.
		args := command(t, "redis", svc["redis"])
		if !hasOption(args, "--appendonly", "yes") {
			t.Errorf("services.redis.command = %q: want --appendonly yes", args)
		}
		if !hasOption(args, "--appendfsync", "always") {
			t.Errorf("services.redis.command = %q: want --appendfsync always (a confirmed checkout must survive a restart)", args)
		}
	})

	t.Run("foyer services build this module and run the right subcommand", func(t *testing.T) {
		for _, tc := range []struct{ service, subcommand string }{
			{"migrate", "migrate"},
			{"gateway", "serve"},
			{"worker", "worker"},
		} {
			s := svc[tc.service]
			if ctx, ok := buildContext(s.Build); !ok || filepath.Clean(ctx) != "." {
				t.Errorf("services.%s.build = %v, want the module root (\".\") so it runs this code", tc.service, s.Build)
			}
			if s.Entrypoint != nil {
				t.Errorf("services.%s.entrypoint = %v: leave it to the image (/foyer)", tc.service, s.Entrypoint)
			}
			if args := command(t, tc.service, s); !slices.Equal(args, []string{tc.subcommand}) {
				t.Errorf("services.%s.command = %q, want [%q]", tc.service, args, tc.subcommand)
			}
		}
		if restart := svc["migrate"].Restart; restart != "no" && restart != "" {
			t.Errorf("services.migrate.restart = %q, want \"no\": it runs once and exits", restart)
		}
		for _, name := range []string{"gateway", "worker"} {
			if restart := svc[name].Restart; restart == "" || restart == "no" {
				t.Errorf("services.%s.restart = %q, want it restarted (unless-stopped)", name, restart)
			}
		}
	})

	t.Run("gateway publishes 8080", func(t *testing.T) {
		found := false
		for _, p := range svc["gateway"].Ports {
			published, target, err := parsePort(p)
			if err != nil {
				t.Errorf("services.gateway.ports: %v", err)
				continue
			}
			if published == "8080" && target == "8080" {
				found = true
			}
		}
		if !found {
			t.Errorf("services.gateway.ports = %v, want 8080:8080", svc["gateway"].Ports)
		}
	})

	t.Run("foyer services get the settings they need", func(t *testing.T) {
		for _, tc := range []struct {
			service  string
			required []string
		}{
			{"migrate", []string{"FOYER_DATABASE_URL"}},
			{"gateway", []string{"FOYER_REDIS_URL", "FOYER_DATABASE_URL", "FOYER_ADMIN_TOKEN", "FOYER_SIGNING_KEYS"}},
			{"worker", []string{"FOYER_REDIS_URL", "FOYER_DATABASE_URL", "FOYER_SIGNING_KEYS"}},
		} {
			env := environment(t, tc.service, svc[tc.service])
			for _, key := range tc.required {
				if _, ok := env[key]; !ok {
					t.Errorf("services.%s.environment: %s is missing", tc.service, key)
				}
			}
			for key, raw := range env {
				if strings.HasPrefix(key, "FOYER_") && !slices.Contains(knownEnv, key) {
					t.Errorf("services.%s.environment: %s is not a setting foyer reads (typo?); known: %s",
						tc.service, key, strings.Join(knownEnv, ", "))
				}
				checkSetting(t, tc.service, key, raw, pgEnv)
			}
			// Secrets come from the operator, never from this file.
			for _, key := range []string{"FOYER_ADMIN_TOKEN", "FOYER_SIGNING_KEYS"} {
				if raw, ok := env[key]; ok && !strings.Contains(raw, "${") {
					t.Errorf("services.%s.environment: %s is written into the file; take it from the environment, e.g. ${%s:?set %s}",
						tc.service, key, key, key)
				}
			}
		}

		// Consumer names in the order stream are node IDs; they must be
		// stable across restarts and differ between nodes.
		workerEnv := environment(t, "worker", svc["worker"])
		workerID := interpolate(workerEnv["FOYER_NODE_ID"])
		if workerID == "" {
			t.Errorf("services.worker.environment: set FOYER_NODE_ID to a fixed name; the default (hostname = container ID) changes when the container is recreated")
		}
		gatewayEnv := environment(t, "gateway", svc["gateway"])
		if gatewayID, ok := gatewayEnv["FOYER_NODE_ID"]; ok && workerID != "" && interpolate(gatewayID) == workerID {
			t.Errorf("gateway and worker share FOYER_NODE_ID %q; each node needs its own", workerID)
		}
		if addr, ok := gatewayEnv["FOYER_HTTP_ADDR"]; ok {
			if port := addr[strings.LastIndex(addr, ":")+1:]; port != "8080" {
				t.Errorf("services.gateway.environment: FOYER_HTTP_ADDR=%q, but the published port's target is 8080", addr)
			}
		}
	})

	t.Run("services start in order", func(t *testing.T) {
		const healthy, completed = "service_healthy", "service_completed_successfully"
		for _, tc := range []struct {
			service string
			want    map[string]string
		}{
			{"migrate", map[string]string{"postgres": healthy}},
			{"gateway", map[string]string{"redis": healthy, "postgres": healthy, "migrate": completed}},
			{"worker", map[string]string{"redis": healthy, "postgres": healthy, "migrate": completed}},
		} {
			got := dependsOn(t, tc.service, svc[tc.service])
			for dep, cond := range tc.want {
				if got[dep] != cond {
					t.Errorf("services.%s.depends_on.%s.condition = %q, want %s", tc.service, dep, got[dep], cond)
				}
			}
		}
		// Whatever is waited on as healthy must have a healthcheck, or
		// Compose waits forever.
		for name, s := range svc {
			for dep, cond := range dependsOn(t, name, s) {
				target, ok := svc[dep]
				if !ok {
					t.Errorf("services.%s.depends_on: no service %q", name, dep)
					continue
				}
				if cond == healthy && (target.Healthcheck == nil || target.Healthcheck.Disable || target.Healthcheck.Test == nil) {
					t.Errorf("services.%s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
				}
			}
		}
		for _, tc := range []struct{ service, probe string }{
			{"redis", "redis-cli"},
			{"postgres", "pg_isready"},
		} {
			hc := svc[tc.service].Healthcheck
			if hc == nil {
				continue // reported above
			}
			if test := fmt.Sprint(hc.Test); !strings.Contains(test, tc.probe) {
				t.Errorf("services.%s.healthcheck.test = %s, want it to run %s", tc.service, test, tc.probe)
			}
		}
	})

	t.Run("shutdown has time to finish", func(t *testing.T) {
		for _, name := range []string{"gateway", "worker"} {
			grace := defaultShutdownGrace
			if raw, ok := environment(t, name, svc[name])["FOYER_SHUTDOWN_GRACE"]; ok {
				d, err := time.ParseDuration(interpolate(raw))
				if err != nil {
					t.Errorf("services.%s.environment: FOYER_SHUTDOWN_GRACE=%q: %v", name, raw, err)
					continue
				}
				grace = d
			}
			stop := 10 * time.Second // Compose's default
			if raw := svc[name].StopGracePeriod; raw != "" {
				d, err := time.ParseDuration(raw)
				if err != nil {
					t.Errorf("services.%s.stop_grace_period = %q: %v", name, raw, err)
					continue
				}
				stop = d
			}
			if stop <= grace {
				t.Errorf("services.%s: stop_grace_period %v is not longer than FOYER_SHUTDOWN_GRACE %v; Docker would SIGKILL a shutdown in progress", name, stop, grace)
			}
		}
	})

	t.Run("state lives in declared volumes", func(t *testing.T) {
		for _, tc := range []struct{ service, path string }{
			{"redis", "/data"},
			{"postgres", "/var/lib/postgresql/data"},
		} {
			found := false
			for _, v := range svc[tc.service].Volumes {
				_, target, named, err := parseVolume(v)
				if err != nil {
					t.Errorf("services.%s.volumes: %v", tc.service, err)
					continue
				}
				if target == tc.path && named {
					found = true
				}
			}
			if !found {
				t.Errorf("services.%s.volumes = %v, want a named volume at %s", tc.service, svc[tc.service].Volumes, tc.path)
			}
		}
		for name, s := range svc {
			for _, v := range s.Volumes {
				source, _, named, err := parseVolume(v)
				if err == nil && named {
					if _, ok := compose.Volumes[source]; !ok {
						t.Errorf("services.%s.volumes uses volume %q, which the top-level volumes: does not declare", name, source)
					}
				}
			}
		}
	})
}

// checkSetting checks one environment value of a Foyer service against what
// it must point at. pgEnv is the postgres service's environment.
func checkSetting(t *testing.T, service, key, raw string, pgEnv map[string]string) {
	t.Helper()
	value := interpolate(raw)
	where := fmt.Sprintf("services.%s.environment: %s=%q", service, key, raw)
	switch key {
	case "FOYER_REDIS_URL":
		u, err := url.Parse(value)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			t.Errorf("%s is not a redis:// URL", where)
			return
		}
		if u.Hostname() != "redis" {
			t.Errorf("%s points at host %q, want redis (the compose service)", where, u.Hostname())
		}
		if p := u.Port(); p != "" && p != "6379" {
			t.Errorf("%s uses port %s; the redis service listens on 6379", where, p)
		}
	case "FOYER_DATABASE_URL":
		u, err := url.Parse(value)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			t.Errorf("%s is not a postgres:// URL", where)
			return
		}
		if u.Hostname() != "postgres" {
			t.Errorf("%s points at host %q, want postgres (the compose service)", where, u.Hostname())
		}
		if p := u.Port(); p != "" && p != "5432" {
			t.Errorf("%s uses port %s; the postgres service listens on 5432", where, p)
		}
		password, _ := u.User.Password()
		for _, c := range []struct{ what, got, pgKey string }{
			{"user", u.User.Username(), "POSTGRES_USER"},
			{"password", password, "POSTGRES_PASSWORD"},
			{"database", strings.TrimPrefix(u.Path, "/"), "POSTGRES_DB"},
		} {
			if want := interpolate(pgEnv[c.pgKey]); c.got != want {
				t.Errorf("%s: %s is %q, but the postgres service's %s gives %q", where, c.what, c.got, c.pgKey, want)
			}
		}
	case "FOYER_LOG_FORMAT":
		if value != "text" && value != "json" {
			t.Errorf("%s: must be text or json", where)
		}
	case "FOYER_ADMISSION_TICK", "FOYER_SHUTDOWN_GRACE":
		if _, err := time.ParseDuration(value); err != nil {
			t.Errorf("%s: not a duration: %v", where, err)
		}
	}
}

func TestDockerfileBuildsTheFoyerBinary(t *testing.T) {
	stages := loadDockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d FROM stage(s), want a build stage and a small final stage", len(stages))
	}

	// The build stage is the one that runs `go build`.
	var build *dockerStage
	var buildCmd string
	for i := range stages {
		for _, in := range stages[i].instructions {
			if in.op == "RUN" && strings.Contains(in.args, "go build") {
				build, buildCmd = &stages[i], in.args
			}
		}
	}
	if build == nil {
		t.Fatal("Dockerfile: no stage runs `go build`")
	}

	goVersion := goDirective(t)
	minor := strings.Join(strings.SplitN(goVersion, ".", 3)[:2], ".")
	if want := "golang:" + minor; !strings.HasPrefix(build.image, want) {
		t.Errorf("Dockerfile: build stage is FROM %s, want %s* (go.mod says go %s)", build.image, want, goVersion)
	}
	for _, want := range []string{"./cmd/foyer", "-trimpath"} {
		if !strings.Contains(buildCmd, want) {
			t.Errorf("Dockerfile: go build command %q lacks %s", buildCmd, want)
		}
	}
	if !strings.Contains(buildCmd, "CGO_ENABLED=0") && !build.hasEnv("CGO_ENABLED=0") {
		t.Errorf("Dockerfile: go build command %q must set CGO_ENABLED=0; the final image has no C library", buildCmd)
	}
	output := flagValue(buildCmd, "-o")
	if output == "" {
		t.Fatalf("Dockerfile: go build command %q has no -o; can't tell where the binary goes", buildCmd)
	}

	// Modules are downloaded from go.mod and go.sum alone, before the source
	// is copied in, so that layer survives code changes.
	order := map[string]int{}
	for i, in := range build.instructions {
		switch {
		case in.op == "COPY" && strings.Contains(in.args, "go.mod") && strings.Contains(in.args, "go.sum") && order["mod"] == 0:
			order["mod"] = i + 1
		case in.op == "RUN" && strings.Contains(in.args, "go mod download") && order["download"] == 0:
			order["download"] = i + 1
		case in.op == "COPY" && slices.Contains(strings.Fields(in.args), ".") && order["source"] == 0:
			order["source"] = i + 1
		}
	}
	if !(order["mod"] > 0 && order["mod"] < order["download"] && order["download"] < order["source"]) {
		t.Errorf("Dockerfile: build stage should COPY go.mod go.sum, RUN go mod download, then COPY . ; got positions %v", order)
	}

	final := stages[len(stages)-1]
	if &stages[len(stages)-1] == build {
		t.Fatal("Dockerfile: the final stage is the build stage; copy the binary into a small runtime image")
	}

	// The final stage copies the binary out of the build stage.
	binary := ""
	for _, in := range final.instructions {
		if in.op != "COPY" {
			continue
		}
		fields := strings.Fields(in.args)
		from := ""
		var paths []string
		for _, f := range fields {
			if v, ok := strings.CutPrefix(f, "--from="); ok {
				from = v
			} else if !strings.HasPrefix(f, "--") {
				paths = append(paths, f)
			}
		}
		if (from == build.name || from == strconv.Itoa(build.index)) && len(paths) == 2 && paths[0] == output {
			binary = paths[1]
			if strings.HasSuffix(binary, "/") {
				binary += filepath.Base(output)
			}
		}
	}
	if binary == "" {
		t.Fatalf("Dockerfile: the final stage doesn't COPY --from=%s %s", build.name, output)
	}

	entrypoint, err := final.execForm("ENTRYPOINT")
	if err != nil {
		t.Errorf("Dockerfile: final stage ENTRYPOINT: %v", err)
	} else if len(entrypoint) != 1 || entrypoint[0] != binary {
		t.Errorf("Dockerfile: final stage ENTRYPOINT = %q, want [%q] (the binary, so compose's command: picks the subcommand)", entrypoint, binary)
	}
	if cmd, err := final.execForm("CMD"); err != nil {
		t.Errorf("Dockerfile: final stage CMD: %v", err)
	} else if !slices.Equal(cmd, []string{"serve"}) {
		t.Errorf("Dockerfile: final stage CMD = %q, want [\"serve\"]", cmd)
	}

	user := final.last("USER")
	switch {
	case user == "" && !strings.HasSuffix(final.image, ":nonroot"):
		t.Errorf("Dockerfile: the final stage (FROM %s) has no USER; run as a non-root user", final.image)
	case user != "" && slices.Contains([]string{"root", "0"}, strings.SplitN(user, ":", 2)[0]):
		t.Errorf("Dockerfile: the final stage runs as USER %s; run as a non-root user", user)
	}
	if expose := final.last("EXPOSE"); !slices.Contains(strings.Fields(expose), "8080") && !slices.Contains(strings.Fields(expose), "8080/tcp") {
		t.Errorf("Dockerfile: final stage EXPOSE = %q, want 8080", expose)
	}
}

func TestDockerignoreKeepsTheBuildInputs(t *testing.T) {
	ignore := loadDockerignore(t)
	// What `go build ./cmd/foyer` reads: go.mod, go.sum, the Go sources and
	// everything they //go:embed (SQL migrations, Lua scripts, web assets).
	needed := func(path string) bool {
		switch {
		case path == "go.mod" || path == "go.sum":
			return true
		case strings.HasSuffix(path, ".go"):
			return !strings.HasSuffix(path, "_test.go")
		case strings.HasSuffix(path, ".sql"), strings.HasSuffix(path, ".lua"):
			return true
		case strings.HasPrefix(path, "web/"):
			return true
		}
		return false
	}
	checked := 0
	err := filepath.WalkDir(moduleRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(moduleRoot, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if !needed(rel) {
			return nil
		}
		checked++
		if pattern, ok := ignore.excludes(rel); ok {
			t.Errorf(".dockerignore: %q leaves %s out of the build context, but the build needs it", pattern, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("found no build inputs to check; is the module root where the test thinks it is?")
	}
	for _, p := range []string{".git/HEAD", ".data/redis/appendonly.aof", "cmd/foyer/foyer.test"} {
		if _, ok := ignore.excludes(p); !ok {
			t.Errorf(".dockerignore: %s is sent to the build; leave it out", p)
		}
	}
}

// --- docker-compose.yml ------------------------------------------------------

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	data, err := os.ReadFile(composePath)
	if err != nil {
		t.Fatalf("read the compose file: %v", err)
	}
	var c composeFile
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("docker-compose.yml is not valid YAML: %v", err)
	}
	return c
}

// environment returns a service's environment as raw (not interpolated)
// values, whether the file writes it as a list of K=V or as a map. A bare K
// in a list (taken from the shell) maps to "${K}".
func environment(t *testing.T, service string, s composeService) map[string]string {
	t.Helper()
	env := map[string]string{}
	switch e := s.Environment.(type) {
	case nil:
	case []any:
		for _, item := range e {
			str, ok := item.(string)
			if !ok {
				t.Fatalf("services.%s.environment: list item %v is not a K=V string", service, item)
			}
			k, v, ok := strings.Cut(str, "=")
			if !ok {
				v = "${" + k + "}"
			}
			env[k] = v
		}
	case map[string]any:
		for k, v := range e {
			switch v := v.(type) {
			case nil:
				env[k] = "${" + k + "}"
			case string:
				env[k] = v
			default: // numbers and booleans
				env[k] = fmt.Sprint(v)
			}
		}
	default:
		t.Fatalf("services.%s.environment is a %T; want a list of K=V or a map", service, e)
	}
	return env
}

// command returns a service's command as arguments. A string command is split
// on spaces, as Compose does for simple cases.
func command(t *testing.T, service string, s composeService) []string {
	t.Helper()
	switch c := s.Command.(type) {
	case nil:
		return nil
	case string:
		return strings.Fields(c)
	case []any:
		args := make([]string, len(c))
		for i, a := range c {
			args[i] = fmt.Sprint(a)
		}
		return args
	default:
		t.Fatalf("services.%s.command is a %T; want a string or a list", service, c)
		return nil
	}
}

// dependsOn maps each dependency to its condition; the short list form means
// service_started.
func dependsOn(t *testing.T, service string, s composeService) map[string]string {
	t.Helper()
	deps := map[string]string{}
	switch d := s.DependsOn.(type) {
	case nil:
	case []any:
		for _, name := range d {
			deps[fmt.Sprint(name)] = "service_started"
		}
	case map[string]any:
		for name, spec := range d {
			cond := "service_started"
			if m, ok := spec.(map[string]any); ok {
				if c, ok := m["condition"].(string); ok {
					cond = c
				}
			}
			deps[name] = cond
		}
	default:
		t.Fatalf("services.%s.depends_on is a %T; want a list or a map", service, d)
	}
	return deps
}

func buildContext(build any) (string, bool) {
	switch b := build.(type) {
	case string:
		return b, true
	case map[string]any:
		if ctx, ok := b["context"].(string); ok {
			return ctx, true
		}
		return ".", true
	}
	return "", false
}

// splitImage splits "repo:tag@digest"; pinned means a tag other than latest,
// or a digest.
func splitImage(image string) (repo, tag string, pinned bool) {
	rest, digest, hasDigest := strings.Cut(image, "@")
	repo = rest
	if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") {
		repo, tag = rest[:i], rest[i+1:]
	}
	return repo, tag, (hasDigest && digest != "") || (tag != "" && tag != "latest")
}

func hasOption(args []string, name, value string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == name && args[i+1] == value {
			return true
		}
	}
	return false
}

// parsePort reads a short ("[ip:]published:target[/proto]") or long
// ({target, published}) port entry.
func parsePort(p any) (published, target string, err error) {
	switch p := p.(type) {
	case string:
		spec, _, _ := strings.Cut(p, "/")
		parts := strings.Split(spec, ":")
		if len(parts) == 1 {
			return "", parts[0], nil // container port only: a random host port
		}
		return parts[len(parts)-2], parts[len(parts)-1], nil
	case int:
		return "", strconv.Itoa(p), nil
	case map[string]any:
		return fmt.Sprint(p["published"]), fmt.Sprint(p["target"]), nil
	}
	return "", "", fmt.Errorf("port entry %v (%T) is neither a string nor a map", p, p)
}

// parseVolume reads a short ("source:target[:mode]") or long volume entry.
// named is true for a named volume (as opposed to a bind mount).
func parseVolume(v any) (source, target string, named bool, err error) {
	switch v := v.(type) {
	case string:
		parts := strings.Split(v, ":")
		if len(parts) == 1 {
			return "", parts[0], false, nil // anonymous volume
		}
		source, target = parts[0], parts[1]
		named = !strings.HasPrefix(source, ".") && !strings.HasPrefix(source, "/") && !strings.HasPrefix(source, "~") && !strings.HasPrefix(source, "$")
		return source, target, named, nil
	case map[string]any:
		source, _ = v["source"].(string)
		target, _ = v["target"].(string)
		typ, _ := v["type"].(string)
		return source, target, typ == "volume" && source != "", nil
	}
	return "", "", false, fmt.Errorf("volume entry %v (%T) is neither a string nor a map", v, v)
}

var interpolation = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// interpolate expands Compose's ${VAR...} forms as if the shell set only the
// variables the file demands (${VAR:?msg}), each to "<VAR>"; everything else
// takes its default. That is what a minimal `docker compose up` sees.
func interpolate(s string) string {
	return interpolation.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sub := interpolation.FindStringSubmatch(m)
		name, op, arg := sub[1], sub[2], sub[3]
		if name == "" {
			return "" // $VAR: unset
		}
		switch op {
		case ":-", "-":
			return interpolate(arg)
		case ":?", "?":
			return "<" + name + ">"
		}
		return "" // ${VAR}, ${VAR:+alt}: unset
	})
}

// --- Dockerfile --------------------------------------------------------------

type dockerInstruction struct {
	op   string // upper case: FROM, RUN, COPY, ...
	args string
}

type dockerStage struct {
	index        int
	image, name  string
	instructions []dockerInstruction
}

func loadDockerfile(t *testing.T) []dockerStage {
	t.Helper()
	data, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatalf("read the Dockerfile: %v", err)
	}
	var stages []dockerStage
	for _, in := range dockerInstructions(string(data)) {
		if in.op == "FROM" {
			var fields []string
			for _, f := range strings.Fields(in.args) {
				if !strings.HasPrefix(f, "--") { // --platform=...
					fields = append(fields, f)
				}
			}
			if len(fields) == 0 {
				t.Fatalf("Dockerfile: FROM without an image")
			}
			s := dockerStage{index: len(stages), image: fields[0]}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				s.name = fields[2]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) == 0 {
			if in.op != "ARG" {
				t.Fatalf("Dockerfile: %s before the first FROM", in.op)
			}
			continue
		}
		last := &stages[len(stages)-1]
		last.instructions = append(last.instructions, in)
	}
	return stages
}

// dockerInstructions splits a Dockerfile into instructions: comments dropped,
// lines ending in a backslash joined. Heredocs are not supported.
func dockerInstructions(text string) []dockerInstruction {
	var out []dockerInstruction
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if body, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(trimmed)
		op, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		out = append(out, dockerInstruction{op: strings.ToUpper(op), args: strings.Join(strings.Fields(args), " ")})
		cur.Reset()
	}
	return out
}

// last returns the arguments of the stage's last instruction op, or "".
func (s dockerStage) last(op string) string {
	args := ""
	for _, in := range s.instructions {
		if in.op == op {
			args = in.args
		}
	}
	return args
}

// execForm returns the stage's last op in JSON (exec) form.
func (s dockerStage) execForm(op string) ([]string, error) {
	args := s.last(op)
	if args == "" {
		return nil, fmt.Errorf("no %s", op)
	}
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		return nil, fmt.Errorf("%s %s is not in exec form [\"...\"]; the shell form needs a shell the image may not have", op, args)
	}
	return argv, nil
}

func (s dockerStage) hasEnv(kv string) bool {
	for _, in := range s.instructions {
		if in.op == "ENV" && slices.Contains(strings.Fields(in.args), kv) {
			return true
		}
	}
	return false
}

// flagValue returns the value of flag in a shell command ("-o x" or "-o=x").
func flagValue(cmd, flag string) string {
	fields := strings.Fields(cmd)
	for i, f := range fields {
		if f == flag && i+1 < len(fields) {
			return fields[i+1]
		}
		if v, ok := strings.CutPrefix(f, flag+"="); ok {
			return v
		}
	}
	return ""
}

func goDirective(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(goModPath)
	if err != nil {
		t.Fatalf("read go.mod: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("go.mod has no go directive")
	return ""
}

// --- .dockerignore -----------------------------------------------------------

type dockerignoreRule struct {
	pattern string
	exclude bool // false for a "!" exception
	re      *regexp.Regexp
}

type dockerignore []dockerignoreRule

func loadDockerignore(t *testing.T) dockerignore {
	t.Helper()
	data, err := os.ReadFile(dockerignorePath)
	if err != nil {
		t.Fatalf("read .dockerignore: %v", err)
	}
	var rules dockerignore
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rule := dockerignoreRule{pattern: line, exclude: true}
		if rest, ok := strings.CutPrefix(line, "!"); ok {
			rule.exclude, line = false, rest
		}
		clean := strings.TrimPrefix(filepath.ToSlash(filepath.Clean(line)), "/")
		rule.re = regexp.MustCompile("^" + globToRegexp(clean) + "$")
		rules = append(rules, rule)
	}
	return rules
}

// excludes reports whether path (slash-separated, relative to the context) is
// left out, and by which pattern. As in Docker, the last matching rule wins,
// and a pattern matching a parent directory matches everything inside it.
func (d dockerignore) excludes(path string) (pattern string, excluded bool) {
	for _, r := range d {
		if r.matches(path) {
			pattern, excluded = r.pattern, r.exclude
		}
	}
	return pattern, excluded
}

func (r dockerignoreRule) matches(path string) bool {
	for p := path; p != "." && p != ""; p = filepath.ToSlash(filepath.Dir(p)) {
		if r.re.MatchString(p) {
			return true
		}
		if !strings.Contains(p, "/") {
			break
		}
	}
	return false
}

// globToRegexp translates Docker's patterns: * and ? within one path element,
// ** across any number of them.
func globToRegexp(glob string) string {
	var b strings.Builder
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; {
		case strings.HasPrefix(glob[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(glob[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}
