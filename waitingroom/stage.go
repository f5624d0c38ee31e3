package waitingroom

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A sale's invitee and group sets change whole: the new content is staged
// under a key of its own, beside the live set in the sale's hash slot, then
// swapped in by swapset.lua while the change still holds the sale's lock,
// before it commits (changeInvitations). Each change stages under its own
// key, so two changes, or a change and a gateway's restore, never write into
// one another's copy; and each says whether its list is empty rather than
// leaving that to a missing key, which a crossing swap could have taken.

// stagedTTL bounds how long a staged set, or an old set kept aside to be put
// back, outlives a process that died before swapping or dropping it.
const stagedTTL = 15 * time.Minute

// stageChunk bounds the members one SADD carries, so one call never holds
// Redis for long.
const stageChunk = 5000

// staged is a new content of the live set, waiting to be swapped in. The
// zero staged is no change.
type staged struct {
	live  string // the set it replaces; "" for no change
	key   string // where it waits, when it has members
	empty bool   // the new list is empty: the live set goes
}

// swapped is a swap done, with what it replaced kept aside: undo puts that
// back, drop lets it go.
type swapped struct {
	live  string // "" when nothing was swapped
	aside string // where the old set waits
	had   bool   // there was an old set (else it was empty)
}

// asideKey names a fresh key beside live for a staged or kept-aside set:
// live's name, what it is for and a random suffix, in live's hash slot.
func asideKey(live, what string) string {
	return live + ":" + what + ":" + strings.ToLower(rand.Text()[:16])
}

// stage writes members into a fresh copy of the set live, which expires
// unless swapIn puts it in force. An empty list writes nothing and says so.
func (r *Rooms) stage(ctx context.Context, live string, members []string) (staged, error) {
	if len(members) == 0 {
		return staged{live: live, empty: true}, nil
	}
	s := staged{live: live, key: asideKey(live, "next")}
	for chunk := range slices.Chunk(members, stageChunk) {
		args := make([]any, len(chunk))
		for i, m := range chunk {
			args[i] = m
		}
		p := r.rdb.TxPipeline()
		p.SAdd(ctx, s.key, args...)
		p.PExpire(ctx, s.key, stagedTTL)
		if _, err := p.Exec(ctx); err != nil {
			r.unstage(ctx, s)
			return staged{}, fmt.Errorf("stage %s: %w", live, err)
		}
	}
	return s, nil
}

// unstage drops a staged copy that will not be swapped in (best effort: one
// left over expires, and no join reads it).
func (r *Rooms) unstage(ctx context.Context, s staged) {
	if s.key != "" {
		r.rdb.Del(context.WithoutCancel(ctx), s.key)
	}
}

// swapIn puts s in force in one step (swapset.lua), keeping the set it
// replaces aside for undo.
func (r *Rooms) swapIn(ctx context.Context, s staged) (swapped, error) {
	if s.live == "" {
		return swapped{}, nil
	}
	mode, incoming := "members", s.key
	if s.empty {
		mode, incoming = "empty", asideKey(s.live, "none")
	}
	sw := swapped{live: s.live, aside: asideKey(s.live, "old")}
	had, err := swapSetScript.Run(ctx, r.rdb, []string{s.live, incoming, sw.aside}, mode, stagedTTL.Milliseconds()).Int()
	if err != nil {
		return swapped{}, fmt.Errorf("swap in %s: %w", s.live, err)
	}
	sw.had = had == 1
	return sw, nil
}

// undo puts back the set sw replaced, as when the change's commit failed.
func (r *Rooms) undo(ctx context.Context, sw swapped) error {
	if sw.live == "" {
		return nil
	}
	back, err := r.swapIn(ctx, staged{live: sw.live, key: sw.aside, empty: !sw.had})
	if err != nil {
		return fmt.Errorf("put back %s: %w", sw.live, err)
	}
	r.drop(ctx, back)
	return nil
}

// drop lets go of the set sw replaced, once the change is committed (best
// effort: it expires anyway).
func (r *Rooms) drop(ctx context.Context, sw swapped) {
	if sw.had {
		r.rdb.Del(context.WithoutCancel(ctx), sw.aside)
	}
}
