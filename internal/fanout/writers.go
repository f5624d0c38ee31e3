package fanout

import (
	"context"
	"runtime/pprof"
	"sync"
	"time"
)

// writerCount is how many goroutines write to the node's clients. Writes
// are quick unless a client stopped reading, and then writeTimeout bounds
// them; 32 keeps a few stuck clients from delaying everyone else.
const writerCount = 32

// writePool is the node's shared writers: a connection with messages to send
// waits in line for one of them, so an idle connection costs no goroutine
// beyond its reader. The hub owns the writers: its run starts them, and
// stops and awaits them as the node stops.
type writePool struct {
	n    int // how many writers start runs
	mu   sync.Mutex
	wake *sync.Cond
	// news and ready are the two lines of connections waiting for a
	// writer: those with news to send (anything but a tick's pushes: an
	// admission, an order, an answer, a change an event told) go first.
	// A big room's tick puts every one of its connections in line at
	// once; a small sale's stock change behind them waited up to a second
	// at p99 (BenchmarkAnotherSalesPushesDuringAStorm).
	news  []*Conn
	ready []*Conn
	// newsRun is how many connections the writers took from the news line
	// in a row while others waited with pushes: news goes first, but not
	// for ever. A gateway with news always in line (a long join storm on a
	// busy node) would otherwise leave a waiting shopper's pushes queued
	// until its queue filled and it was cut off as a slow client.
	newsRun int
	started bool
	stopped bool
	writers sync.WaitGroup
	done    chan struct{} // closed once stop has seen every writer end
	// The profiler labels of a writer's samples: what it is writing, the
	// tick's pushes alone or news (anything else). A CPU profile taken
	// from the ops port then says what the pushes cost (the bench's
	// pushes' share). Made once: setting one is a pointer's store.
	pushWrites, newsWrites context.Context
	// epoch is when the pool was made: a connection's last write is kept
	// as the time since (Conn.wroteAt), on the monotonic clock.
	epoch time.Time
}

// WriteLabel is the profiler label a writer's samples carry: "push" while
// it writes the tick's pushes alone, "news" otherwise.
const WriteLabel = "foyer_write"

// label marks the calling writer's samples as writing pushes or news.
func (p *writePool) label(pushes bool) {
	if pushes {
		pprof.SetGoroutineLabels(p.pushWrites)
	} else {
		pprof.SetGoroutineLabels(p.newsWrites)
	}
}

// newWritePool makes a pool of n writers, not yet running: what is
// scheduled before start waits for it.
func newWritePool(n int) *writePool {
	p := &writePool{n: n, done: make(chan struct{}), epoch: time.Now(),
		pushWrites: pprof.WithLabels(context.Background(), pprof.Labels(WriteLabel, "push")),
		newsWrites: pprof.WithLabels(context.Background(), pprof.Labels(WriteLabel, "news"))}
	p.wake = sync.NewCond(&p.mu)
	return p
}

// start starts the writers, once; a stopped pool starts none.
func (p *writePool) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started || p.stopped {
		return
	}
	p.started = true
	p.writers.Add(p.n)
	for range p.n {
		go func() {
			defer p.writers.Done()
			p.run()
		}()
	}
}

// schedule puts a connection in line for a writer: with news, in the line
// that goes first.
func (p *writePool) schedule(c *Conn, news bool) {
	p.mu.Lock()
	if news {
		p.news = append(p.news, c)
	} else {
		p.ready = append(p.ready, c)
	}
	p.mu.Unlock()
	p.wake.Signal()
}

func (p *writePool) run() {
	for {
		p.mu.Lock()
		for len(p.news) == 0 && len(p.ready) == 0 && !p.stopped {
			p.wake.Wait()
		}
		if p.stopped {
			p.mu.Unlock()
			return
		}
		c, fromNews := p.next()
		p.mu.Unlock()
		c.flush(fromNews)
	}
}

// newsFirst is how many connections with news the writers take before one
// that waits with pushes, when both lines hold some.
const newsFirst = 4

// next takes the connection a writer writes next: the first with news,
// else the first in line, but one in line after newsFirst with news in a
// row; and it says which. One is waiting; p.mu is held.
func (p *writePool) next() (c *Conn, fromNews bool) {
	line := &p.ready
	fromNews = len(p.news) > 0 && (p.newsRun < newsFirst || len(p.ready) == 0)
	if fromNews {
		line = &p.news
		p.newsRun++
	} else {
		p.newsRun = 0
	}
	c = (*line)[0]
	(*line)[0] = nil
	*line = (*line)[1:]
	return c, fromNews
}

// stop ends the writers once the node has closed its connections, and
// returns when every one has ended.
func (p *writePool) stop() {
	p.mu.Lock()
	first := !p.stopped
	p.stopped = true
	p.mu.Unlock()
	p.wake.Broadcast()
	p.writers.Wait()
	if first {
		close(p.done)
	}
}
