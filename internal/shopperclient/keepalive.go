package shopperclient

import (
	"context"
	"sync"
	"time"

	"github.com/foyerhq/foyer/internal/wire"
)

// PingInterval is how often a Conn pings the server. The server closes a
// connection it has heard nothing from for 60 s (close code 4009); pinging
// every 20 s leaves a shopper that only listens room for two lost pings.
const PingInterval = 20 * time.Second

// SetPingInterval sets how often the Conns this client connects from now
// on ping the server; zero or less means PingInterval. A bench that sets
// the product's client against a bare one sets both to ping alike, so that
// idle CPU compares like with like.
func (c *Client) SetPingInterval(every time.Duration) { c.pingEvery = max(every, 0) }

// pingWriteTimeout bounds the write of one ping. A ping that cannot be
// written in this long means the connection is broken.
const pingWriteTimeout = 10 * time.Second

var pingMessage = []byte(`{"type":"` + wire.CmdPing + `"}`)

// keepalive is a Conn's pinger: a timer, from Connect until the Conn is
// closed. Between pings it costs no goroutine: a load generator holding
// tens of thousands of Conns in one process would otherwise keep a
// goroutine and its stack for each.
type keepalive struct {
	mu      sync.Mutex // guards stopped, and timer's re-arming
	timer   *time.Timer
	stopped bool
	pinging sync.WaitGroup // a ping being written
}

func (k *keepalive) start(c *Conn, every time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.timer = time.AfterFunc(every, func() { k.ping(c, every) })
}

// ping writes one ping and arms the next, unless the pinger was stopped or
// the ping could not be written: the connection is then broken, and its
// reader learns so from Next. Each write gets its own timeout rather than a
// caller's context: the pinger owns its lifetime.
func (k *keepalive) ping(c *Conn, every time.Duration) {
	k.mu.Lock()
	if k.stopped {
		k.mu.Unlock()
		return
	}
	k.pinging.Add(1)
	k.mu.Unlock()
	defer k.pinging.Done()
	ctx, cancel := context.WithTimeout(context.Background(), pingWriteTimeout)
	err := c.SendRaw(ctx, pingMessage)
	cancel()
	if err != nil {
		return
	}
	k.mu.Lock()
	if !k.stopped {
		k.timer.Reset(every)
	}
	k.mu.Unlock()
}

// stopAround stops the pinger around closing the connection: no ping starts
// after it is called, closing cuts short a ping being written, and it
// returns once that ping has returned, so nothing of the pinger outlives
// the Conn.
func (k *keepalive) stopAround(closeConn func() error) error {
	k.mu.Lock()
	k.stopped = true
	if k.timer != nil {
		k.timer.Stop()
	}
	k.mu.Unlock()
	err := closeConn()
	k.pinging.Wait()
	return err
}
