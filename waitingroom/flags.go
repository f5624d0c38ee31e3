package waitingroom

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// Signals of automation, recorded per shopper where a gateway sees them
// (docs/defence.md). A signal is a reason to look, not proof: the sale's
// FlagPolicy decides what a flag does.
const (
	// SignalEarlyJoin: a join answered with a place within moments of the
	// sale's start.
	SignalEarlyJoin = "early_join"
	// SignalFastCheckout: a checkout implausibly soon after admission.
	SignalFastCheckout = "fast_checkout"
	// SignalManyIdentities: the shopper's session came from an address that
	// made many sessions lately.
	SignalManyIdentities = "many_identities"
)

// FlagPolicy is what a sale does with flagged shoppers.
type FlagPolicy string

const (
	// FlagPolicyAllow only records flags, for operators to see. The default.
	FlagPolicyAllow FlagPolicy = "allow"
	// FlagPolicyBack sends a flagged shopper waiting in the queue behind
	// everyone, once per new signal.
	FlagPolicyBack FlagPolicy = "back"
	// FlagPolicyRemove takes a flagged shopper out of the queue (or the
	// prequeue) and refuses its joins from then on.
	FlagPolicyRemove FlagPolicy = "remove"
)

// Valid reports whether p is a policy a sale can have.
func (p FlagPolicy) Valid() bool {
	return p == FlagPolicyAllow || p == FlagPolicyBack || p == FlagPolicyRemove
}

// Outcomes of recording a flag: what the sale's policy did to the shopper.
const (
	FlagKept     = "none"     // recorded only (allow, nothing new, or not waiting)
	FlagRequeued = "requeued" // sent to the back with a new ticket
	FlagRemoved  = "removed"  // taken out of the queue or the prequeue
)

// FlagOutcome is what recording a flag did.
type FlagOutcome struct {
	Outcome  string // FlagKept, FlagRequeued or FlagRemoved
	Ticket   int64  // with FlagRequeued: the new ticket
	Position int64  // with FlagRequeued: the position of the new ticket
	Policy   FlagPolicy
}

// Flag records signals of automation against a shopper of a sale, seen from
// address addr, and applies the sale's policy to the shopper in the same
// script (flag.lua). Recording what was recorded before changes nothing.
func (r *Rooms) Flag(ctx context.Context, saleID, shopperID, addr string, signals []string) (FlagOutcome, error) {
	body, err := json.Marshal(signals)
	if err != nil {
		return FlagOutcome{}, fmt.Errorf("flag shopper of sale %s: %w", saleID, err)
	}
	k := Keys(saleID)
	reply, err := flagScript.Run(ctx, r.rdb, flagKeys(k),
		"record", EventsMaxLen, shopperID, body, addr).Slice()
	if err != nil {
		return FlagOutcome{}, fmt.Errorf("flag shopper of sale %s: %w", saleID, scriptError(err))
	}
	outcome, _ := reply[0].(string)
	ticket, _ := reply[1].(int64)
	position, _ := reply[2].(int64)
	policy, _ := reply[3].(string)
	return FlagOutcome{Outcome: outcome, Ticket: ticket, Position: position, Policy: FlagPolicy(policy)}, nil
}

func flagKeys(k SaleKeys) []string {
	return []string{k.Meta, k.Queue, k.Gone, k.Events, k.Pre, k.Presort, k.Flags}
}

// PolicyApplied says what setting a policy did to the shoppers flagged so far.
type PolicyApplied struct {
	Policy   FlagPolicy `json:"policy"`
	Requeued int64      `json:"requeued"` // sent to the back
	Removed  int64      `json:"removed"`  // taken out of the queue or prequeue
}

// SetFlaggedPolicy sets what the sale does with flagged shoppers and applies
// it at once to every shopper flagged so far, then records it in the audit
// log. The policy lives in Redis with the flags it acts on.
func (o *Operator) SetFlaggedPolicy(ctx context.Context, saleID string, policy FlagPolicy, actor string) (PolicyApplied, error) {
	if !policy.Valid() {
		return PolicyApplied{}, fmt.Errorf("%w: policy must be allow, back or remove, not %q", ErrInvalidSale, policy)
	}
	if _, err := o.catalog.Get(ctx, saleID); err != nil {
		return PolicyApplied{}, err
	}
	applied, err := o.rooms.applyFlaggedPolicy(ctx, saleID, policy)
	if err != nil {
		return PolicyApplied{}, err
	}
	detail, _ := json.Marshal(applied)
	if err := o.catalog.audit(ctx, saleID, "flagged_policy", actor, detail); err != nil {
		return PolicyApplied{}, err
	}
	return applied, nil
}

// applyFlaggedPolicy sets the sale's policy in Redis and applies it to every
// shopper flagged so far, in one script (flag.lua).
func (r *Rooms) applyFlaggedPolicy(ctx context.Context, saleID string, policy FlagPolicy) (PolicyApplied, error) {
	reply, err := flagScript.Run(ctx, r.rdb, flagKeys(Keys(saleID)),
		"policy", EventsMaxLen, string(policy)).Int64Slice()
	if err != nil {
		return PolicyApplied{}, fmt.Errorf("set flagged policy of sale %s: %w", saleID, scriptError(err))
	}
	return PolicyApplied{Policy: policy, Requeued: reply[0], Removed: reply[1]}, nil
}

// FlaggedShopper is one shopper's record of signals in a sale.
type FlaggedShopper struct {
	Shopper string    `json:"shopper"`
	Signals []string  `json:"signals"`
	IP      string    `json:"ip"`       // the address the first signal was seen from
	FirstAt time.Time `json:"first_at"` // when the first signal was recorded, by Redis's clock
}

// FlagReport is what operators see of a sale's flagged shoppers.
type FlagReport struct {
	Policy  FlagPolicy `json:"policy"`
	Flagged int        `json:"flagged"` // every flagged shopper
	// Shoppers are the newest flagged shoppers, newest first, at most the
	// limit asked for; Truncated says there are more.
	Shoppers  []FlaggedShopper `json:"shoppers"`
	Truncated bool             `json:"truncated"`
}

// flagRecord is a shopper's record as flag.lua keeps it.
type flagRecord struct {
	Signals   []string `json:"signals"`
	IP        string   `json:"ip"`
	FirstAtMs int64    `json:"first_at_ms"`
}

// Flags reports a sale's policy and its flagged shoppers, the newest limit
// of them. It reads every record (O(flagged shoppers)): an operator's view,
// not a hot path.
func (r *Rooms) Flags(ctx context.Context, saleID string, limit int) (FlagReport, error) {
	k := Keys(saleID)
	var fields *redis.SliceCmd
	var all *redis.MapStringStringCmd
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		fields = p.HMGet(ctx, k.Meta, "state", "flagged_policy")
		all = p.HGetAll(ctx, k.Flags)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return FlagReport{}, fmt.Errorf("read flags of sale %s: %w", saleID, err)
	}
	v := fields.Val()
	if v[0] == nil {
		return FlagReport{}, fmt.Errorf("read flags of sale %s: %w", saleID, ErrSaleNotFound)
	}
	rep := FlagReport{Policy: FlagPolicyAllow, Flagged: len(all.Val()), Shoppers: []FlaggedShopper{}}
	if p, _ := v[1].(string); p != "" {
		rep.Policy = FlagPolicy(p)
	}
	for shopper, raw := range all.Val() {
		var rec flagRecord
		if err := json.Unmarshal([]byte(raw), &rec); err != nil {
			return FlagReport{}, fmt.Errorf("decode flags of shopper %s of sale %s: %w", shopper, saleID, err)
		}
		rep.Shoppers = append(rep.Shoppers, FlaggedShopper{
			Shopper: shopper, Signals: rec.Signals, IP: rec.IP, FirstAt: time.UnixMilli(rec.FirstAtMs).UTC()})
	}
	slices.SortFunc(rep.Shoppers, func(a, b FlaggedShopper) int {
		return cmp.Or(b.FirstAt.Compare(a.FirstAt), cmp.Compare(a.Shopper, b.Shopper))
	})
	if len(rep.Shoppers) > limit {
		rep.Shoppers, rep.Truncated = rep.Shoppers[:limit], true
	}
	return rep, nil
}
