package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/foyerhq/foyer/internal/loadgen"
)

// The bare server's clients run in processes of their own, as the load
// generator's players do: one process may hold 20,000 sockets here, so a
// baseline as large as Foyer's crowd takes several bare servers and as many
// crowds, one each.

// barePerProcess is the most connections one bare server, or one crowd of
// its clients, holds by default: the gateways' own ceiling,
// FOYER_MAX_CONNECTIONS.
const barePerProcess = 18_000

// crowdConnected is the first line a crowd prints, once its connections
// are open.
type crowdConnected struct {
	Began time.Time     `json:"began"`  // the first dial
	Ended time.Time     `json:"ended"`  // the last accept
	CPU   time.Duration `json:"cpu_ns"` // the process's CPU in between
	Error string        `json:"error,omitempty"`
}

// crowdHeard is its last line, printed once its standard input closes:
// what each broadcast took to reach each connection, in the order the
// broadcasts were sent.
type crowdHeard struct {
	Rounds [][]time.Duration `json:"rounds"`
}

// ServeBareCrowd is `foyer-bench bare-crowd URL N CONCURRENCY [PING_EVERY]`:
// it opens N connections to the bare server at URL, CONCURRENCY at a time,
// each pinging every PING_EVERY (absent or 0: never), prints crowdConnected,
// listens until in closes, then prints crowdHeard.
func ServeBareCrowd(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	if len(args) != 3 && len(args) != 4 {
		return fmt.Errorf("bare-crowd URL N CONCURRENCY [PING_EVERY]: got %d arguments", len(args))
	}
	n, errN := strconv.Atoi(args[1])
	concurrency, errC := strconv.Atoi(args[2])
	if errN != nil || errC != nil || n < 1 || concurrency < 1 {
		return fmt.Errorf("bare-crowd: N and CONCURRENCY must be positive numbers, not %q and %q", args[1], args[2])
	}
	var pingEvery time.Duration
	if len(args) == 4 {
		var err error
		if pingEvery, err = time.ParseDuration(args[3]); err != nil || pingEvery < 0 {
			return fmt.Errorf("bare-crowd: PING_EVERY must be a duration of 0 or more, not %q", args[3])
		}
	}
	enc := json.NewEncoder(out)
	before, began := loadgen.ProcessCPU(), time.Now()
	crowd, _, err := connectBare(ctx, args[0], n, concurrency, pingEvery)
	if err != nil {
		return enc.Encode(crowdConnected{Error: err.Error()})
	}
	defer crowd.close()
	if err := enc.Encode(crowdConnected{Began: began, Ended: time.Now(), CPU: loadgen.ProcessCPU() - before}); err != nil {
		return err
	}
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, in) //nolint:errcheck // any end of the input is the signal
		close(closed)
	}()
	select {
	case <-closed:
	case <-ctx.Done():
		return ctx.Err()
	}
	// A broadcast is written when /broadcast answers, not yet read: the
	// report waits, a while at most, for every connection to have read
	// every broadcast.
	crowd.waitRead(n, 30*time.Second)
	return enc.Encode(crowdHeard{Rounds: crowd.rounds()})
}

// crowdProc is a crowd running as a child process.
type crowdProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines *bufio.Reader
}

// startCrowd starts a crowd of n clients of the bare server at url, each
// pinging every pingEvery, as a process of self (`foyer-bench bare-crowd`).
func startCrowd(self, url string, n, concurrency int, pingEvery time.Duration, log io.Writer) (*crowdProc, error) {
	cmd := exec.Command(self, "bare-crowd", url, strconv.Itoa(n), strconv.Itoa(concurrency), pingEvery.String())
	cmd.Stderr = log
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start a bare crowd: %w", err)
	}
	return &crowdProc{cmd: cmd, stdin: stdin, lines: bufio.NewReader(stdout)}, nil
}

// read decodes the crowd's next line into v.
func (p *crowdProc) read(v any) error {
	line, err := p.lines.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("a bare crowd ended without its report: %w", err)
	}
	return json.Unmarshal(line, v)
}

// connected waits until the crowd's connections are open.
func (p *crowdProc) connected() (crowdConnected, error) {
	var c crowdConnected
	if err := p.read(&c); err != nil {
		return c, err
	}
	if c.Error != "" {
		return c, fmt.Errorf("bare crowd of %s: %s", p.cmd.Args[2], c.Error)
	}
	return c, nil
}

// heard ends the crowd and returns what it heard.
func (p *crowdProc) heard() (crowdHeard, error) {
	p.stdin.Close()
	var h crowdHeard
	err := p.read(&h)
	p.cmd.Wait() //nolint:errcheck // its report is what counts
	return h, err
}

// stop ends a crowd that may still run; it is safe after heard. Its output
// is drained meanwhile: a crowd told to stop writes its report, larger than
// a pipe holds, and would never exit while nobody reads it.
func (p *crowdProc) stop() {
	p.stdin.Close()
	if p.cmd.ProcessState == nil {
		go io.Copy(io.Discard, p.lines)    //nolint:errcheck // what it says is no longer wanted
		p.cmd.Process.Signal(os.Interrupt) //nolint:errcheck // it may have exited already
		p.cmd.Wait()                       //nolint:errcheck // stopping is all that is asked
	}
}
