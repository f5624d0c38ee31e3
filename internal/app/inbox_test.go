package app_test

import (
	"context"
	"slices"
	"sync"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// inbox reads a shopper's messages as they come, as a real client does, so a
// test that looks at them later is never cut off as a slow reader.
type inbox struct {
	mu      sync.Mutex
	read    int           // messages handed out by next
	changed chan struct{} // closed and replaced at every new message
	msgs    []shopperclient.Message
	err     error
}

func listen(conn *shopperclient.Conn) *inbox {
	in := &inbox{changed: make(chan struct{})}
	go func() {
		for {
			m, err := conn.Next(context.Background())
			in.mu.Lock()
			if err != nil {
				in.err = err
			} else {
				in.msgs = append(in.msgs, m)
			}
			close(in.changed)
			in.changed = make(chan struct{})
			in.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return in
}

// wait returns the first message of the given type, waiting for it.
func (in *inbox) wait(ctx context.Context, typ string) (shopperclient.Message, error) {
	return in.waitAny(ctx, typ)
}

// waitAny returns the first message of any of the given types.
func (in *inbox) waitAny(ctx context.Context, types ...string) (shopperclient.Message, error) {
	from := 0
	return in.scan(ctx, &from, types)
}

// next returns the next message of the given type not yet handed out by next.
func (in *inbox) next(ctx context.Context, typ string) (shopperclient.Message, error) {
	return in.scan(ctx, &in.read, []string{typ})
}

// scan looks through the messages from *from on for one of the types,
// waiting for more as they come; *from ends just past the one returned.
func (in *inbox) scan(ctx context.Context, from *int, types []string) (shopperclient.Message, error) {
	for {
		in.mu.Lock()
		for ; *from < len(in.msgs); *from++ {
			if m := in.msgs[*from]; slices.Contains(types, m.Type) {
				*from++
				in.mu.Unlock()
				return m, nil
			}
		}
		err, changed := in.err, in.changed
		in.mu.Unlock()
		if err != nil {
			return shopperclient.Message{}, err
		}
		select {
		case <-ctx.Done():
			return shopperclient.Message{}, ctx.Err()
		case <-changed:
		}
	}
}
