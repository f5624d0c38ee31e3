package server

import (
	"context"
	"fmt"
	"sync"
)

// sseStreams are the event streams open on this node, by stream key, so
// that a message posted to one reaches its session. The key is the
// client's choice (a random string, per stream): a load balancer can send
// a stream's GET and its POSTs to one node by hashing it
// (deploy/nginx/foyer.conf), which a key the node made could not do.
type sseStreams struct {
	mu   sync.Mutex
	open map[string]*sseStream
}

// Stream keys: long enough to be random, short and plain enough to sit in
// a URL and a log line unescaped.
const (
	minStreamKey = 16
	maxStreamKey = 64
)

// validStreamKey checks a stream key: minStreamKey to maxStreamKey letters,
// digits, '-' or '_'.
func validStreamKey(key string) error {
	if len(key) < minStreamKey || len(key) > maxStreamKey {
		return fmt.Errorf("%w: stream must be %d to %d characters", errBadRequest, minStreamKey, maxStreamKey)
	}
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("%w: stream may hold letters, digits, '-' and '_' only", errBadRequest)
		}
	}
	return nil
}

// add registers st under its key, unless an open stream holds the key.
func (ss *sseStreams) add(st *sseStream) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if _, taken := ss.open[st.key]; taken {
		return errStreamTaken
	}
	if ss.open == nil {
		ss.open = map[string]*sseStream{}
	}
	ss.open[st.key] = st
	return nil
}

// opened records the session of a stream that open welcomed, and lets the
// messages posted meanwhile through.
func (ss *sseStreams) opened(st *sseStream, sess *session) {
	ss.mu.Lock()
	st.sess = sess
	ss.mu.Unlock()
	close(st.ready)
}

// remove forgets st, once it has ended.
func (ss *sseStreams) remove(st *sseStream) {
	ss.mu.Lock()
	if ss.open[st.key] == st {
		delete(ss.open, st.key)
	}
	ss.mu.Unlock()
}

// of is the open stream under key whose session is the shopper's, with its
// session: errStreamUnknown when there is none, or it is another
// shopper's. A stream still opening is waited for, as a socket's messages
// wait for its opening to end: a client that read its welcome may post
// before the node has recorded its arrival.
func (ss *sseStreams) of(ctx context.Context, key, shopper string) (*sseStream, *session, error) {
	ss.mu.Lock()
	st := ss.open[key]
	ss.mu.Unlock()
	if st == nil {
		return nil, nil, errStreamUnknown
	}
	select {
	case <-st.ready:
	case <-st.closing:
		return nil, nil, errStreamUnknown
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("wait for stream to open: %w", ctx.Err())
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if st.sess == nil || st.sess.shopper != shopper {
		return nil, nil, errStreamUnknown
	}
	return st, st.sess, nil
}
