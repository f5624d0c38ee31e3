package localservers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
)

// StripeMockOptions configures StartStripeMock.
type StripeMockOptions struct {
	// Dir holds the server's log. It is created if missing. Required.
	Dir string
	// Port to listen on at 127.0.0.1. Defaults to 0: a free port.
	Port int
	// Log receives the server's own output. Defaults to nil: Dir/stripe-mock.log.
	Log io.Writer
}

// StripeMock is a stripe-mock server (github.com/stripe/stripe-mock, Stripe's
// own API server for tests) started by StartStripeMock. It answers from the
// fixtures of Stripe's OpenAPI spec and keeps no state: it checks that a
// request is one Stripe would accept, and answers as Stripe would in shape.
type StripeMock struct {
	Addr string // 127.0.0.1:port

	proc *process
}

// stripeMockBin finds stripe-mock on PATH, or where `go install` puts it
// (GOBIN, GOPATH/bin, ~/go/bin), which is often off PATH.
func stripeMockBin() (string, error) {
	if bin, err := exec.LookPath("stripe-mock"); err == nil {
		return bin, nil
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("GOPATH"); d != "" {
		dirs = append(dirs, filepath.Join(filepath.SplitList(d)[0], "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		bin := filepath.Join(d, "stripe-mock")
		if info, err := os.Stat(bin); err == nil && !info.IsDir() {
			return bin, nil
		}
	}
	return "", errors.New("stripe-mock not found on PATH nor in GOBIN, GOPATH/bin or ~/go/bin (scripts/provision.sh installs it)")
}

// StartStripeMock starts stripe-mock on loopback and returns once it answers.
func StartStripeMock(ctx context.Context, o StripeMockOptions) (*StripeMock, error) {
	if o.Dir == "" {
		return nil, errors.New("start stripe-mock: StripeMockOptions.Dir is empty")
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("start stripe-mock: %w", err)
	}
	bin, err := stripeMockBin()
	if err != nil {
		return nil, fmt.Errorf("start stripe-mock: %w", err)
	}
	s := &StripeMock{}
	if err := onFreePort(o.Port, func(port int) error { return s.start(ctx, bin, o, port) }); err != nil {
		return nil, err
	}
	return s, nil
}

// URL is the server's API base, for a Stripe client's backend.
func (s *StripeMock) URL() string { return "http://" + s.Addr }

// Stop ends the server and waits for it.
func (s *StripeMock) Stop() error {
	if err := s.proc.stop(syscall.SIGKILL); err != nil { // it keeps nothing: no need to be gentle
		return fmt.Errorf("stop stripe-mock on %s: %w", s.Addr, err)
	}
	return nil
}

func (s *StripeMock) start(ctx context.Context, bin string, o StripeMockOptions, port int) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// Without an HTTPS address of its own it also listens on :12112, on every
	// interface, which two servers cannot share.
	args := []string{"-http-addr", addr, "-https-addr", "127.0.0.1:0"}
	out, err := openLog(o.Log, o.Dir, "stripe-mock.log")
	if err != nil {
		return fmt.Errorf("start stripe-mock on %s: %w", addr, err)
	}
	proc, err := launch(bin, args, o.Dir, nil, out)
	if err != nil {
		return fmt.Errorf("start stripe-mock on %s: %w", addr, err)
	}
	if err := proc.waitReady(ctx, func(ctx context.Context) error { return stripeMockReady(ctx, addr) }); err != nil {
		proc.stop(syscall.SIGKILL)
		return fmt.Errorf("start stripe-mock on %s: %w%s", addr, err, proc.logTail())
	}
	s.proc, s.Addr = proc, addr
	return nil
}

// stripeMockReady asks for a balance, which any API key may read: a 200 is
// stripe-mock, routing its spec.
func stripeMockReady(ctx context.Context, addr string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v1/balance", nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth("sk_test_ready", "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /v1/balance answered %s", resp.Status)
	}
	return nil
}
