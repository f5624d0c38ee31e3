package shopperclient

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/foyerhq/foyer/internal/defence/pow"
	"github.com/foyerhq/foyer/internal/wire"
)

// PowChallenge is the proof of work a sale asks before joining
// (docs/pow.md): the challenge to solve and its difficulty in leading zero bits.
type PowChallenge = wire.PowChallenge

// powState is a connection's proof of work: the last challenge the server
// gave (in the welcome or a pow_* error), spent by the next join, and
// whether a join sent by Join may still be retried once.
type powState struct {
	mu        sync.Mutex
	challenge string
	retry     bool
}

// sendJoin sends a join, with the solution of the challenge it holds, if any.
// Solving takes on average 2^difficulty hashes, a few milliseconds at the
// difficulties sales use (docs/pow.md); it does not watch ctx.
func (c *Conn) sendJoin(ctx context.Context) error {
	c.work.mu.Lock()
	challenge := c.work.challenge
	c.work.challenge = "" // a challenge is spent by one join, whatever its answer
	c.work.mu.Unlock()
	msg := wire.ClientMsg{Type: wire.CmdJoin}
	if challenge != "" {
		solution, err := pow.Solve(challenge)
		if err != nil {
			return fmt.Errorf("join: %w", err)
		}
		msg.Pow = &wire.PowSolution{Challenge: challenge, Solution: solution}
	}
	return c.Send(ctx, msg)
}

// retriedJoin keeps the challenge a message brings, and answers a pow_*
// error to a join sent by Join (missing, expired or already used solution;
// the challenge changed) by joining once more with the fresh challenge. It
// reports whether it did: the caller then skips the error.
func (c *Conn) retriedJoin(ctx context.Context, m Message) bool {
	if m.Pow == nil || m.Pow.Challenge == "" {
		return false
	}
	c.work.mu.Lock()
	c.work.challenge = m.Pow.Challenge
	retry := m.Type == wire.MsgError && strings.HasPrefix(m.Code, wire.CodePowPrefix) && c.work.retry
	if retry {
		c.work.retry = false
	}
	c.work.mu.Unlock()
	return retry && c.sendJoin(ctx) == nil
}
