package shopperclient

import (
	"context"
	"sync"
	"time"
)

// PingInterval is how often a Conn pings the server. The server closes a
// connection it has heard nothing from for 30 s (close code 4009); pinging
// every 20 s leaves a shopper that only listens room for one slow ping.
const PingInterval = 20 * time.Second

// pingWriteTimeout bounds the write of one ping. A ping that cannot be
// written in this long means the connection is broken.
const pingWriteTimeout = 10 * time.Second

var pingMessage = []byte(`{"type":"ping"}`)

// keepalive is a Conn's pinger: one goroutine and one ticker, from Connect
// until the Conn is closed.
type keepalive struct {
	stop     chan struct{} // closed to stop the pinger
	done     chan struct{} // closed when the pinger has returned
	stopOnce sync.Once
}

func (k *keepalive) start(c *Conn, every time.Duration) {
	k.stop = make(chan struct{})
	k.done = make(chan struct{})
	go k.run(c, every)
}

// run pings every tick until stopped, or until a ping cannot be written: the
// connection is then broken, and its reader learns so from Next. The
// goroutine owns its lifetime, so each write gets its own timeout rather
// than a caller's context.
func (k *keepalive) run(c *Conn, every time.Duration) {
	defer close(k.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), pingWriteTimeout)
		err := c.SendRaw(ctx, pingMessage)
		cancel()
		if err != nil {
			return
		}
	}
}

// stopAround stops the pinger around closing the connection: it tells the
// pinger to stop, closes (which also cuts short a ping being written), and
// returns once the pinger has returned, so no goroutine outlives the Conn.
func (k *keepalive) stopAround(closeConn func() error) error {
	if k.stop == nil {
		return closeConn() // never started
	}
	k.stopOnce.Do(func() { close(k.stop) })
	err := closeConn()
	<-k.done
	return err
}
