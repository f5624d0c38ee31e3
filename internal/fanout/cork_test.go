package fanout

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// writeCounter counts the writes that reach a connection.
type writeCounter struct {
	net.Conn
	writes int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	return w.Conn.Write(p)
}

func TestCorkedWritesLeaveTogetherAndUncorkedOnesAtOnce(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	received := make(chan []byte, 10)
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := client.Read(buf)
			if err != nil {
				close(received)
				return
			}
			received <- append([]byte(nil), buf[:n]...)
		}
	}()
	counted := &writeCounter{Conn: server}
	w := &Corkable{Conn: counted}

	w.Cork()
	for _, part := range []string{"wel", "come", "+place"} {
		if n, err := w.Write([]byte(part)); n != len(part) || err != nil {
			t.Fatalf("corked write of %q: %d, %v", part, n, err)
		}
	}
	if counted.writes != 0 {
		t.Fatalf("%d writes reached the connection while corked, want 0", counted.writes)
	}
	if err := w.Uncork(time.Second); err != nil {
		t.Fatal(err)
	}
	if got := string(<-received); got != "welcome+place" || counted.writes != 1 {
		t.Fatalf("uncorked: %q in %d writes, want %q in 1", got, counted.writes, "welcome+place")
	}
	if err := w.Uncork(time.Second); err != nil || counted.writes != 1 {
		t.Fatalf("uncorking with nothing gathered: %v, %d writes, want none", err, counted.writes)
	}
	if _, err := w.Write([]byte("stock")); err != nil {
		t.Fatal(err)
	}
	if got := string(<-received); got != "stock" || counted.writes != 2 {
		t.Fatalf("after uncork: %q in %d writes, want %q straight through", got, counted.writes, "stock")
	}
}

// The library's own timeouts covered only the gathering; the gathered write
// has its own. Once done, it takes it away, since the library's writes
// count on none; one that timed out may have sent part of a frame, so it
// leaves nothing to follow it.
func TestAGatheredWriteHasItsOwnTimeout(t *testing.T) {
	t.Run("one that timed out lets nothing follow it", func(t *testing.T) {
		server, client := net.Pipe()
		defer server.Close()
		defer client.Close()
		w := &Corkable{Conn: server}
		w.Cork()
		w.Write([]byte("nobody reads this")) //nolint:errcheck // corked: always whole
		// Nobody reads the pipe, so the write cannot finish: its deadline ends it.
		if err := w.Uncork(time.Nanosecond); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a gathered write nobody reads returned %v, want a deadline exceeded", err)
		}
		after := make(chan error, 1)
		go func() {
			_, err := w.Write([]byte("close frame"))
			after <- err
		}()
		select {
		case err := <-after:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("a write after a timed-out gathered one returned %v, want a deadline exceeded", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a write after a timed-out gathered one waited for a reader: it would follow part of a frame")
		}
	})
	t.Run("one that was written leaves no deadline behind", func(t *testing.T) {
		server, client := net.Pipe()
		defer server.Close()
		defer client.Close()
		go io.Copy(io.Discard, client) //nolint:errcheck // a reader, until the pipe closes
		w := &Corkable{Conn: server}
		const timeout = 200 * time.Millisecond
		w.Cork()
		w.Write([]byte("welcome+place")) //nolint:errcheck // corked: always whole
		if err := w.Uncork(timeout); err != nil {
			t.Fatal(err)
		}
		// The deadline the gathered write had must be gone: let it pass.
		time.Sleep(timeout + 50*time.Millisecond)
		if _, err := w.Write([]byte("stock")); err != nil {
			t.Fatalf("a write after the gathered one's deadline passed failed: %v", err)
		}
	})
}
