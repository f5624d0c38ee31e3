package server

import "sync"

// writerCount is how many goroutines write to the node's clients. Writes
// are quick unless a client stopped reading, and then writeTimeout bounds
// them; 32 keeps a few stuck clients from delaying everyone else.
const writerCount = 32

// writePool is the node's shared writers: a connection with messages to send
// waits in line for one of them, so an idle connection costs no goroutine
// beyond its reader.
type writePool struct {
	mu      sync.Mutex
	wake    *sync.Cond
	ready   []*conn
	stopped bool
}

func newWritePool(n int) *writePool {
	p := &writePool{}
	p.wake = sync.NewCond(&p.mu)
	for range n {
		go p.run()
	}
	return p
}

// schedule puts a connection in line for a writer.
func (p *writePool) schedule(c *conn) {
	p.mu.Lock()
	p.ready = append(p.ready, c)
	p.mu.Unlock()
	p.wake.Signal()
}

func (p *writePool) run() {
	for {
		p.mu.Lock()
		for len(p.ready) == 0 && !p.stopped {
			p.wake.Wait()
		}
		if p.stopped {
			p.mu.Unlock()
			return
		}
		c := p.ready[0]
		p.ready[0] = nil
		p.ready = p.ready[1:]
		p.mu.Unlock()
		c.flush()
	}
}

// stop ends the writers once the node has closed its connections.
func (p *writePool) stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.wake.Broadcast()
}
