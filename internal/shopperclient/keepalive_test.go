package shopperclient

import (
	"context"
	"testing"
	"time"
)

func TestAConnPingsTheServerUntilClosed(t *testing.T) {
	for _, closeConn := range []struct {
		name string
		fn   func(*Conn) error
	}{{"Close", (*Conn).Close}, {"CloseNow", (*Conn).CloseNow}} {
		t.Run(closeConn.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			urls, _ := fakeDeployment(t, fakeClock{}, "a")
			client := New(urls[0])
			client.pingEvery = 5 * time.Millisecond
			conn, err := client.Connect(ctx, "s_test", Session{Token: "t"})
			if err != nil {
				t.Fatal(err)
			}
			for pongs := 0; pongs < 3; {
				m, err := conn.Next(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if m.Type == "pong" {
					pongs++
				}
			}
			closeConn.fn(conn)
			// Once closed, the pinger is marked stopped: a ping whose timer
			// fires late then neither writes nor arms the next one.
			conn.pinging.mu.Lock()
			stopped := conn.pinging.stopped
			conn.pinging.mu.Unlock()
			if !stopped {
				t.Fatal("the pinger is not stopped after the Conn was closed")
			}
		})
	}
}

// A caller sets the ping interval, as the bench does to ping as its bare
// clients do; a negative one means the default.
func TestSetPingIntervalSetsHowOftenAConnPings(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	urls, _ := fakeDeployment(t, fakeClock{}, "a")
	client := New(urls[0])
	client.SetPingInterval(-time.Second)
	if client.pingEvery != 0 {
		t.Errorf("a negative interval set %s, want 0 (PingInterval)", client.pingEvery)
	}
	client.SetPingInterval(5 * time.Millisecond)
	conn, err := client.Connect(ctx, "s_test", Session{Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	for pongs := 0; pongs < 3; {
		m, err := conn.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == "pong" {
			pongs++
		}
	}
}
