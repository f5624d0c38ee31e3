package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestServersRunWithSmallStacksWhateverGODEBUGSaidBefore starts the bare
// server (`foyer-bench bare`, a server that needs no Redis, with the
// gateway's small stacks: internal/smallstacks) with GODEBUG unset,
// empty and set to something else, and expects it to listen with the
// setting added to what was there, run once again in place at most. Set
// once more for its own choice, GODEBUG is left as it is.
func TestServersRunWithSmallStacksWhateverGODEBUGSaidBefore(t *testing.T) {
	bin := buildBoth(t)
	for _, c := range []struct {
		godebug []string // GODEBUG given, if any (os/exec keeps one GODEBUG only)
		want    string   // the GODEBUG the server runs with
	}{
		{nil, "adaptivestackstart=0"},
		{[]string{""}, "adaptivestackstart=0"},
		{[]string{"http2debug=0"}, "http2debug=0,adaptivestackstart=0"},
		{[]string{"adaptivestackstart=1"}, "adaptivestackstart=1"},
	} {
		t.Run(fmt.Sprint(c.godebug), func(t *testing.T) {
			cmd := exec.Command(bin, "bare", "127.0.0.1:0")
			cmd.Env = withoutGODEBUG(os.Environ())
			for _, g := range c.godebug {
				cmd.Env = append(cmd.Env, "GODEBUG="+g)
			}
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			// A program that ran itself again without end would never listen.
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "listening ") {
				t.Fatalf("the bare server said %q (%v), want listening", line, err)
			}
			if runtime.GOOS != "linux" {
				return // the environment of a running process is read from /proc
			}
			environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", cmd.Process.Pid))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, kv := range strings.Split(string(environ), "\x00") {
				if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
					got = append(got, v)
				}
			}
			if !slices.Equal(got, []string{c.want}) {
				t.Errorf("runs with GODEBUG %q, want only %q", got, c.want)
			}
		})
	}
}
