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
			// No ping goes out once the Conn is closed: a ping written
			// after closing would fail, and a timer left armed would fire.
			conn.pinging.mu.Lock()
			stopped, armed := conn.pinging.stopped, conn.pinging.timer.Stop()
			conn.pinging.mu.Unlock()
			if !stopped || armed {
				t.Fatalf("after closing, the pinger is stopped %v with its timer armed %v; want stopped and disarmed", stopped, armed)
			}
		})
	}
}
