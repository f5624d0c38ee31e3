package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"sync"
	"time"
)

// A player process (`foyer-bench loadgen -player CONFIG`) talks to its parent on
// its standard output, one JSON object per line: a progress line every
// half second, then one line with everything it measured.
type childLine struct {
	Progress *Progress `json:"progress,omitempty"`
	Partial  *Partial  `json:"partial,omitempty"`
}

// playAsChild is a player process: it plays the shoppers of the playerConfig
// in cfgJSON and reports on out.
func playAsChild(ctx context.Context, cfgJSON string, out io.Writer) error {
	var cfg playerConfig
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		return fmt.Errorf("loadgen player: read its configuration: %w", err)
	}
	p, err := newPlayer(cfg)
	if err != nil {
		return fmt.Errorf("loadgen player: %w", err)
	}
	stopProfile, err := profileCPU(os.Getenv("FOYER_LOADGEN_CPUPROFILE"))
	if err != nil {
		return fmt.Errorf("loadgen player: %w", err)
	}
	defer stopProfile()
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	var mu sync.Mutex
	emit := func(l childLine) error {
		mu.Lock()
		defer mu.Unlock()
		if err := enc.Encode(l); err != nil {
			return err
		}
		return w.Flush()
	}

	done := make(chan Partial, 1)
	go func() { done <- p.play(ctx) }()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			pr := p.progress()
			if err := emit(childLine{Progress: &pr}); err != nil {
				return fmt.Errorf("loadgen player: report progress: %w", err)
			}
		case part := <-done:
			if err := emit(childLine{Partial: &part}); err != nil {
				return fmt.Errorf("loadgen player: report results: %w", err)
			}
			return nil
		}
	}
}

// child is a player process started by Run.
type child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once its output has been read to the end

	mu      sync.Mutex
	last    Progress
	partial *Partial
	readErr error
}

// profileCPU writes the player's CPU profile to prefix.PID, when prefix
// is set: what the load generator itself costs is part of every figure
// measured on one machine.
func profileCPU(prefix string) (stop func(), err error) {
	if prefix == "" {
		return func() {}, nil
	}
	f, err := os.Create(fmt.Sprintf("%s.%d", prefix, os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// startChild starts player k of o as a child process. Cancelling ctx
// interrupts it; it then reports what it measured so far, as at its end.
func startChild(ctx context.Context, o Options, k int) (*child, error) {
	cfg, err := json.Marshal(o.player(k))
	if err != nil {
		return nil, err
	}
	command := o.Exec
	if len(command) == 0 {
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find this executable: %w", err)
		}
		command = []string{self, "loadgen"}
	}
	cmd := exec.CommandContext(ctx, command[0], append(command[1:], "-player", string(cfg))...)
	cmd.Env = append(os.Environ(), o.Env...)
	cmd.Stderr = os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go c.read(stdout)
	return c, nil
}

// read follows the child's reports until its output ends.
func (c *child) read(r io.Reader) {
	defer close(c.done)
	dec := json.NewDecoder(r)
	for {
		var l childLine
		err := dec.Decode(&l)
		if errors.Is(err, io.EOF) {
			return
		}
		c.mu.Lock()
		if err != nil {
			c.readErr = fmt.Errorf("read its report: %w", err)
			c.mu.Unlock()
			io.Copy(io.Discard, r)
			return
		}
		if l.Progress != nil {
			c.last = *l.Progress
		}
		if l.Partial != nil {
			c.partial = l.Partial
		}
		c.mu.Unlock()
	}
}

func (c *child) progress() Progress {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

func (c *child) wait() (Partial, error) {
	<-c.done
	waitErr := c.cmd.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.readErr != nil:
		return Partial{}, c.readErr
	case c.partial == nil:
		return Partial{}, fmt.Errorf("ended without a report: %v", waitErr)
	}
	return *c.partial, nil
}
