package waitingroom

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/redis/go-redis/v9"
)

// Invite codes are spent in Redis, by join.lua, and Postgres keeps who spent
// each (used_by, used_at), so that a sale Redis lost comes back with its
// spent codes spent (restoreInvitations). join.lua adds each spent code's
// digest to the sale's Spent set; every gateway, every InviteSpendsEvery,
// copies those uses into Postgres and then takes from the set what it
// wrote, never more: gateways doing it at once write the same rows (a use
// already recorded is left as it is) and a spend that lands meanwhile stays
// for the next tick. The set holds only the spends not copied yet, and a
// tick in which nobody spent a code costs one pipelined round trip for all
// the sales.

// InviteSpendsEvery is how often a gateway copies the invite codes spent
// since into Postgres. It bounds the window in which a spend is in Redis
// alone, while Postgres answers: a Redis that lost the sale within it
// (beside its own fsync window) loses the spend with it, and the code comes
// back unused. While Postgres is down the spends wait in the set.
const InviteSpendsEvery = time.Second

// spendsBatch bounds the spends of one sale one round trip copies.
const spendsBatch = 1000

// RecordInviteSpends copies the invite codes spent since the last call, in
// every sale Redis holds, into Postgres.
func (o *Operator) RecordInviteSpends(ctx context.Context) error {
	ids, err := o.rooms.rdb.SMembers(ctx, ActiveSales).Result()
	if err != nil {
		return fmt.Errorf("list the active sales: %w", err)
	}
	spent := make([]*redis.StringSliceCmd, len(ids))
	_, err = o.rooms.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			spent[i] = p.SRandMemberN(ctx, Keys(id).Spent, spendsBatch)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the spent invite codes: %w", err)
	}
	var errs []error
	for i, id := range ids {
		for digests := spent[i].Val(); len(digests) > 0; {
			if err := o.recordSpends(ctx, id, digests); err != nil {
				errs = append(errs, err)
				break
			}
			if len(digests) < spendsBatch {
				break
			}
			if digests, err = o.rooms.rdb.SRandMemberN(ctx, Keys(id).Spent, spendsBatch).Result(); err != nil {
				errs = append(errs, fmt.Errorf("read the spent invite codes of sale %s: %w", id, err))
				break
			}
		}
	}
	return errors.Join(errs...)
}

// recordSpends writes the uses of the codes with these digests (hex) into
// Postgres, then takes them from the sale's Spent set.
func (o *Operator) recordSpends(ctx context.Context, saleID string, digests []string) error {
	k := Keys(saleID)
	uses, err := o.rooms.rdb.HMGet(ctx, k.Invites, digests...).Result()
	if err != nil {
		return fmt.Errorf("read the spent invite codes of sale %s: %w", saleID, err)
	}
	var u inviteUses
	for i, d := range digests {
		use, _ := uses[i].(string)
		u.add(d, use) // a code gone from the hash (its creation undone) is only taken from the set
	}
	if err := o.writeInviteUses(ctx, saleID, u); err != nil {
		return err
	}
	members := make([]any, len(digests))
	for i, d := range digests {
		members[i] = d
	}
	if err := o.rooms.rdb.SRem(ctx, k.Spent, members...).Err(); err != nil {
		return fmt.Errorf("forget the recorded invite codes of sale %s: %w", saleID, err)
	}
	return nil
}

// inviteUses are uses of invite codes as Redis keeps them, ready for
// Postgres.
type inviteUses struct {
	digests [][]byte
	by      []string
	at      []int64 // unix ms
}

// add adds the use of the code whose digest (hex) is field, as the invites
// hash keeps it ("<shopper>:<unix ms>"); an unused code ("") or anything
// else is left out.
func (u *inviteUses) add(field, use string) {
	shopper, ms, ok := strings.Cut(use, ":")
	d, err := hex.DecodeString(field)
	n, nerr := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || nerr != nil {
		return
	}
	u.digests, u.by, u.at = append(u.digests, d), append(u.by, shopper), append(u.at, n)
}

// writeInviteUses records uses in Postgres; a use recorded already stays as
// it was, so writing one twice is harmless.
func (o *Operator) writeInviteUses(ctx context.Context, saleID string, u inviteUses) error {
	if len(u.digests) == 0 {
		return nil
	}
	_, err := o.catalog.db.ExecContext(ctx, `UPDATE sale_invite_codes c SET used_by = u.by, used_at = to_timestamp(u.ms / 1000.0)
		FROM unnest($2::bytea[], $3::text[], $4::bigint[]) AS u(d, by, ms)
		WHERE c.sale_id = $1 AND c.digest = u.d AND c.used_by IS NULL`,
		saleID, pq.Array(u.digests), pq.Array(u.by), pq.Array(u.at))
	if err != nil {
		return fmt.Errorf("record invite code uses of sale %s: %w", saleID, err)
	}
	return nil
}
