package localservers

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// NginxRender is what RenderNginxConfig changes in a deployment's nginx.conf
// to run it on loopback, unprivileged, in a folder of its own.
type NginxRender struct {
	// Dir holds the pid file, the access log and the temp folders. Required.
	Dir string
	// Port is the one port the server block listens on, at 127.0.0.1.
	Port int
	// Upstreams are the gateways (host:port) that replace the servers of
	// each of the config's upstream blocks (the same gateways, balanced
	// differently); each keeps the parameters (max_fails, fail_timeout, ...)
	// of its block's first server. At least one.
	Upstreams []string
	// Generation is answered at GenerationPath, so that whoever started or
	// reloaded the server can tell when this rendering is the one serving.
	Generation int
	// RunAsRoot makes the workers run as root instead of nginx's default
	// unprivileged user, who could not reach a temp folder that only root
	// may enter. Set it when the process is root.
	RunAsRoot bool
}

// GenerationPath answers the rendering's NginxRender.Generation.
const GenerationPath = "/.localservers/generation"

// The directives of the main context that the rendering sets itself, and
// drops from the config: a server under a test must stay in the foreground,
// write only in its own folder and run one worker.
var mainDirectivesReplaced = map[string]bool{
	"user": true, "daemon": true, "pid": true, "error_log": true,
	"worker_processes": true, "worker_rlimit_nofile": true, "master_process": true,
}

// The temp folders the http context gets in the rendering's folder: nginx's
// built-in ones (/var/lib/nginx/... on Debian) are root's.
var tempPaths = []string{"client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path"}

// RenderNginxConfig rewrites conf, a whole nginx.conf such as
// deploy/nginx/foyer.conf, to run as r says, and keeps every other directive
// as it is. It reads one directive per line: an upstream's servers and the
// server block's listen must each stand on a line of their own. It fails,
// rather than guess, when conf has no http block, no upstream block, an
// upstream block without a server, or not exactly one listen.
func RenderNginxConfig(conf string, r NginxRender) (string, error) {
	if r.Dir == "" || r.Port == 0 || len(r.Upstreams) == 0 {
		return "", errors.New("render nginx config: Dir, Port and Upstreams are required")
	}
	var out []string
	mainDirectives := []string{"daemon off;", "worker_processes 1;", "pid " + r.Dir + "/nginx.pid;", "error_log stderr warn;"}
	if r.RunAsRoot {
		mainDirectives = append(mainDirectives, "user root root;")
	}
	out = append(out, "# Rendered by internal/localservers from a deployment's nginx.conf.")
	out = append(out, mainDirectives...)

	var (
		stack                           []string // the blocks the line is in, outermost first
		https, upstreams, listens       int
		upstreamServers, emptyUpstreams int // servers of the block being read; blocks without one
		inUpstream, wroteUpstreamList   bool
	)
	for n, line := range strings.Split(conf, "\n") {
		code := directiveText(line)
		fields := strings.Fields(strings.TrimSuffix(strings.TrimSpace(code), ";"))
		name := ""
		if len(fields) > 0 {
			name = fields[0]
		}
		context := strings.Join(stack, "/")
		rewritten := (inUpstream && name == "server") || (strings.HasSuffix(context, "server") && name == "listen")
		if rewritten && strings.Count(code, ";") != 1 {
			return "", fmt.Errorf("render nginx config: line %d: put %s alone on its line", n+1, name)
		}
		switch {
		case context == "" && mainDirectivesReplaced[name]:
			continue
		case name == "access_log":
			// The same format, if the config names one, in Dir.
			format := ""
			if len(fields) > 2 {
				format = " " + strings.Join(fields[2:], " ")
			}
			line = indentOf(line) + "access_log " + r.Dir + "/access.log" + format + ";"
		case name == "error_log":
			line = indentOf(line) + "error_log stderr warn;"
		case inUpstream && name == "server":
			upstreamServers++
			if wroteUpstreamList {
				continue
			}
			wroteUpstreamList = true
			params := ""
			if len(fields) > 2 {
				params = " " + strings.Join(fields[2:], " ")
			}
			var servers []string
			for _, u := range r.Upstreams {
				servers = append(servers, indentOf(line)+"server "+u+params+";")
			}
			line = strings.Join(servers, "\n")
		case strings.HasSuffix(context, "server") && name == "listen":
			listens++
			indent := indentOf(line)
			line = indent + "listen 127.0.0.1:" + strconv.Itoa(r.Port) + ";\n" +
				indent + "location = " + GenerationPath + " { return 200 \"" + strconv.Itoa(r.Generation) + "\"; }"
		}
		out = append(out, line)

		opens, closes := strings.Count(code, "{"), strings.Count(code, "}")
		if opens > 0 {
			stack = append(stack, name)
			switch {
			case name == "http":
				https++
				for _, p := range tempPaths {
					out = append(out, "    "+p+" "+r.Dir+"/"+strings.TrimSuffix(p, "_temp_path")+";")
				}
			case name == "upstream":
				upstreams++
				inUpstream, wroteUpstreamList, upstreamServers = true, false, 0
			}
		}
		for range closes {
			if len(stack) == 0 {
				return "", fmt.Errorf("render nginx config: line %d closes a block that was never opened", n+1)
			}
			if stack[len(stack)-1] == "upstream" {
				inUpstream = false
				if upstreamServers == 0 {
					emptyUpstreams++
				}
			}
			stack = stack[:len(stack)-1]
		}
	}
	switch {
	case len(stack) > 0:
		return "", fmt.Errorf("render nginx config: block %s is never closed", strings.Join(stack, "/"))
	case https != 1:
		return "", fmt.Errorf("render nginx config: %d http blocks, want one", https)
	case upstreams == 0 || emptyUpstreams > 0:
		return "", fmt.Errorf("render nginx config: %d upstream blocks, %d without a server; want at least one, each with a server", upstreams, emptyUpstreams)
	case listens != 1:
		return "", fmt.Errorf("render nginx config: %d listen directives in server blocks, want one", listens)
	}
	return strings.Join(out, "\n"), nil
}

// directiveText is the line without its comment and without the text of its
// quoted strings, so that a brace or a # in a string counts for nothing.
func directiveText(line string) string {
	var b strings.Builder
	var quote rune
	for _, c := range line {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
				b.WriteRune(c)
			}
		case c == '\'' || c == '"':
			quote = c
			b.WriteRune(c)
		case c == '#':
			return b.String()
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// indentOf is the line's leading white space.
func indentOf(line string) string {
	return line[:len(line)-len(strings.TrimLeft(line, " \t"))]
}
