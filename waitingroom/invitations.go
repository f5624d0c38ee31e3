package waitingroom

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/redis/go-redis/v9"
)

// The invitations of an invited sale: its invitee list, its groups and its
// invite codes. Postgres keeps them (the system of record, with the shop's
// customer ids as given); Redis keeps what a join checks, in the sale's hash
// slot: the invitees' shopper ids, the groups, and the codes' digests.
//
// Each change is one operator action: it locks the sale as every action
// does, writes Postgres and its audit row in one transaction, stages the
// Redis copy under a key of its own (stage.go), swaps it in while it still
// holds the lock, then commits; a swap or commit that fails makes Redis
// Postgres's again (restoreInvitations, putBack).
// Changes and restores of one sale thus put their lists in force in the
// order they commit, so the live set is the last committed list. A refused
// change touches neither. A process that dies between its swap and its
// commit leaves Redis with a list Postgres does not have, until a gateway
// start (or foyer reconcile --repair) restores Redis from Postgres, the
// system of record; one that dies after its commit leaves only a copy that
// expires.

// ReplaceInvitees makes ids the sale's whole invitee list (ParseInvitees
// reads one), replacing the one it had. The sale's eligibility must be
// invited; actor is who asked, for the audit log.
func (o *Operator) ReplaceInvitees(ctx context.Context, saleID string, ids []string, actor string) error {
	if len(ids) > MaxInvitees {
		return fmt.Errorf("%w: a sale may list at most %d customers", ErrInvitationsInvalid, MaxInvitees)
	}
	if len(ids) > 0 && o.CustomerShopper == nil {
		return errors.New("replace invitees: no way to derive customers' shopper ids is configured")
	}
	shoppers := make([]string, len(ids))
	for i, id := range ids {
		if why := customerIDProblem(id); why != "" {
			return fmt.Errorf("%w: customer id %d %s", ErrInvitationsInvalid, i+1, why)
		}
		shoppers[i] = o.CustomerShopper(id)
	}
	detail := map[string]int{"invitees": len(ids)}
	return o.changeInvitations(ctx, saleID, "invitees", actor, detail, func(ctx context.Context, tx *sqlx.Tx) (staged, error) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sale_invitees WHERE sale_id = $1`, saleID); err != nil {
			return staged{}, fmt.Errorf("clear invitees of sale %s: %w", saleID, err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sale_invitees (sale_id, position, customer_id)
			SELECT $1, t.ord, t.id FROM unnest($2::text[]) WITH ORDINALITY AS t(id, ord)`, saleID, pq.Array(ids))
		if err != nil {
			return staged{}, fmt.Errorf("store invitees of sale %s: %w", saleID, err)
		}
		return o.rooms.stage(ctx, Keys(saleID).Invited, shoppers)
	})
}

// SetGroups makes groups the whole list of the shop's groups whose members
// the sale admits (CheckGroups says which lists are valid).
func (o *Operator) SetGroups(ctx context.Context, saleID string, groups []string, actor string) error {
	if err := CheckGroups(groups); err != nil {
		return err
	}
	detail := map[string][]string{"groups": groups}
	return o.changeInvitations(ctx, saleID, "groups", actor, detail, func(ctx context.Context, tx *sqlx.Tx) (staged, error) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sale_groups WHERE sale_id = $1`, saleID); err != nil {
			return staged{}, fmt.Errorf("clear groups of sale %s: %w", saleID, err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sale_groups (sale_id, name) SELECT $1, unnest($2::text[])`,
			saleID, pq.Array(groups))
		if err != nil {
			return staged{}, fmt.Errorf("store groups of sale %s: %w", saleID, err)
		}
		return o.rooms.stage(ctx, Keys(saleID).Groups, groups)
	})
}

// NewInviteCodes makes n single-use invite codes for the sale and returns
// them: the only time they are seen, since only their digests are kept.
func (o *Operator) NewInviteCodes(ctx context.Context, saleID string, n int, actor string) ([]string, error) {
	if n < 1 || n > MaxCodesPerRequest {
		return nil, fmt.Errorf("%w: count must be between 1 and %d", ErrInvitationsInvalid, MaxCodesPerRequest)
	}
	codes := make([]string, n)
	digests := make([][]byte, n)
	fields := make([]any, 0, 2*n)
	for i := range codes {
		codes[i] = newInviteCode()
		digests[i] = inviteDigest(codes[i])
		fields = append(fields, hex.EncodeToString(digests[i]), "")
	}
	k := Keys(saleID)
	added := false
	err := o.changeInvitations(ctx, saleID, "invite_codes", actor, map[string]int{"count": n}, func(ctx context.Context, tx *sqlx.Tx) (staged, error) {
		var have int
		if err := tx.GetContext(ctx, &have, `SELECT count(*) FROM sale_invite_codes WHERE sale_id = $1`, saleID); err != nil {
			return staged{}, fmt.Errorf("count invite codes of sale %s: %w", saleID, err)
		}
		if have+n > MaxInviteCodes {
			return staged{}, fmt.Errorf("%w: a sale may have at most %d invite codes; it has %d", ErrInvitationsInvalid, MaxInviteCodes, have)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sale_invite_codes (sale_id, digest) SELECT $1, unnest($2::bytea[])`,
			saleID, pq.Array(digests))
		if err != nil {
			return staged{}, fmt.Errorf("store invite codes of sale %s: %w", saleID, err)
		}
		// Straight into the live hash: nobody knows these codes until they
		// are returned, after the commit.
		if err := o.rooms.rdb.HSet(ctx, k.Invites, fields...).Err(); err != nil {
			return staged{}, fmt.Errorf("add invite codes of sale %s: %w", saleID, err)
		}
		added = true
		return staged{}, nil
	})
	if err != nil {
		if added { // best effort: codes nobody was told let nobody in
			dctx, cancel := o.detached(ctx)
			defer cancel()
			o.rooms.rdb.HDel(dctx, k.Invites, hexAll(digests)...)
		}
		return nil, err
	}
	return codes, nil
}

func hexAll(digests [][]byte) []string {
	out := make([]string, len(digests))
	for i, d := range digests {
		out[i] = hex.EncodeToString(d)
	}
	return out
}

// Invitees returns the sale's invitee list, in the order it was given.
func (o *Operator) Invitees(ctx context.Context, saleID string) ([]string, error) {
	if _, err := o.catalog.Get(ctx, saleID); err != nil {
		return nil, err
	}
	ids := []string{}
	err := o.catalog.db.SelectContext(ctx, &ids,
		`SELECT customer_id FROM sale_invitees WHERE sale_id = $1 ORDER BY position`, saleID)
	if err != nil {
		return nil, fmt.Errorf("list invitees of sale %s: %w", saleID, err)
	}
	return ids, nil
}

// Invitations sums up a sale's invitations for the dashboard.
type Invitations struct {
	Eligibility Eligibility `json:"eligibility"`
	Invitees    int         `json:"invitees"`
	Groups      []string    `json:"groups"`
	Codes       int         `json:"codes"`
	CodesUsed   int         `json:"codes_used"`
}

// InvitationsOf sums up the sale's invitations: the lists from Postgres,
// and how many codes were used from Redis, where joins spend them; it
// records those uses in Postgres as it reads them (recordInviteUses).
func (o *Operator) InvitationsOf(ctx context.Context, saleID string) (Invitations, error) {
	p, err := o.catalog.Get(ctx, saleID)
	if err != nil {
		return Invitations{}, err
	}
	inv := Invitations{Eligibility: p.EligibilityOf(), Groups: []string{}}
	q := `SELECT (SELECT count(*) FROM sale_invitees WHERE sale_id = $1),
	             (SELECT count(*) FROM sale_invite_codes WHERE sale_id = $1)`
	if err := o.catalog.db.QueryRowxContext(ctx, q, saleID).Scan(&inv.Invitees, &inv.Codes); err != nil {
		return Invitations{}, fmt.Errorf("count invitations of sale %s: %w", saleID, err)
	}
	if err := o.catalog.db.SelectContext(ctx, &inv.Groups,
		`SELECT name FROM sale_groups WHERE sale_id = $1 ORDER BY name`, saleID); err != nil {
		return Invitations{}, fmt.Errorf("list groups of sale %s: %w", saleID, err)
	}
	if inv.CodesUsed, err = o.recordInviteUses(ctx, saleID); err != nil {
		return Invitations{}, err
	}
	return inv, nil
}

// listRecordTimeout bounds a change of a sale's invitations once begun: a
// whole list of MaxInvitees customers, written to Postgres and staged in
// Redis in one go, took 17 s on this project's machine in a slow hour,
// past an action's 10 s (defaultRecordTimeout), and was refused with a 500.
const listRecordTimeout = time.Minute

// changeInvitations runs one change of a sale's invitations as one operator
// action (see the top of this file): change writes Postgres inside tx and
// stages its Redis copy (the zero staged when it wrote Redis itself), which
// is swapped in before the commit, under the sale's lock.
func (o *Operator) changeInvitations(ctx context.Context, saleID, action, actor string, detail any,
	change func(ctx context.Context, tx *sqlx.Tx) (staged, error)) error {
	if why := textProblem(actor, maxActorLen); why != "" {
		return fmt.Errorf("%w: actor %s", ErrInvalidSale, why)
	}
	pgctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(o.recordTimeout, listRecordTimeout))
	defer cancel()
	tx, err := o.catalog.Begin(pgctx)
	if err != nil {
		return fmt.Errorf("%s of sale %s: %w", action, saleID, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	p, err := o.catalog.lock(pgctx, tx, saleID, false)
	if err != nil {
		return err
	}
	if p.EligibilityOf() != EligibleInvited {
		return fmt.Errorf("%w: sale %s admits everyone; invitations are for a sale whose eligibility is invited",
			ErrInvitationsInvalid, saleID)
	}
	next, err := change(pgctx, tx)
	if err != nil {
		o.rooms.unstage(pgctx, next)
		return err
	}
	body, err := json.Marshal(detail)
	if err != nil {
		o.rooms.unstage(pgctx, next)
		return fmt.Errorf("%s of sale %s: %w", action, saleID, err)
	}
	if _, err := o.catalog.recordIn(pgctx, tx, saleID, action, actor, body); err != nil {
		o.rooms.unstage(pgctx, next)
		return err
	}
	sw, err := o.rooms.swapIn(pgctx, next)
	if err != nil {
		// The swap may have run with its reply lost: Redis is made
		// Postgres's again, which this change left as it was.
		o.rooms.unstage(pgctx, next)
		tx.Rollback() //nolint:errcheck // the change is abandoned
		err = fmt.Errorf("%s of sale %s: %w", action, saleID, err)
		if rerr := o.restoreInvitations(pgctx, saleID); rerr != nil {
			return errors.Join(err, fmt.Errorf("redis may keep the unsaved list until the sale is restored: %w", rerr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		err = fmt.Errorf("commit %s of sale %s: %w", action, saleID, err)
		return errors.Join(err, o.putBack(pgctx, saleID, sw))
	}
	o.rooms.drop(pgctx, sw)
	return nil
}

// putBack makes Redis's lists Postgres's again after a change swapped its
// list in and then failed to commit. A failed commit may have committed all
// the same (its answer lost), so Postgres is read again (restoreInvitations,
// under the sale's lock), which is right either way; a Postgres out of reach
// most likely did not commit, so then the set the swap replaced is put back.
// It returns nil when Redis is Postgres's again.
func (o *Operator) putBack(ctx context.Context, saleID string, sw swapped) error {
	defer o.rooms.drop(ctx, sw)
	rerr := o.restoreInvitations(ctx, saleID)
	if rerr == nil {
		return nil
	}
	if uerr := o.rooms.undo(ctx, sw); uerr != nil {
		return fmt.Errorf("redis keeps the uncommitted list until the sale is restored: %w", errors.Join(rerr, uerr))
	}
	return nil
}

// recordInviteUses copies who used which of the sale's invite codes, and
// when, from Redis, where joins spend them, into Postgres (used_by,
// used_at), and returns how many were used: the whole hash, where
// RecordInviteSpends copies only the spends since its last tick. It reads
// the hash a few hundred fields a call, so that a big one never holds Redis
// for long.
func (o *Operator) recordInviteUses(ctx context.Context, saleID string) (int, error) {
	var u inviteUses
	var field string
	iter := o.rooms.rdb.HScan(ctx, Keys(saleID).Invites, 0, "", 500).Iterator()
	for i := 0; iter.Next(ctx); i++ {
		if i%2 == 0 { // field, value, field, value...
			field = iter.Val()
			continue
		}
		u.add(field, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return 0, fmt.Errorf("read invite codes of sale %s: %w", saleID, err)
	}
	if err := o.writeInviteUses(ctx, saleID, u); err != nil {
		return 0, err
	}
	return len(u.digests), nil
}

// RestoreInvitations puts an invited sale's invitations back in Redis from
// Postgres, as a gateway start does (restoreInvitations), for foyer
// reconcile --repair; a sale that admits everyone has none to put back.
func (o *Operator) RestoreInvitations(ctx context.Context, saleID string) error {
	p, err := o.catalog.Get(ctx, saleID)
	if err != nil {
		return err
	}
	if p.EligibilityOf() != EligibleInvited {
		return nil
	}
	return o.restoreInvitations(ctx, saleID)
}

// restoreInvitations makes Redis's copy of an invited sale's invitations
// Postgres's again, as a gateway starts (LoadCurrent): a Redis that lost
// the sale, or whose sale foyer reconcile put back without them, gets them
// back, before the sale's meta, so that no join finds the sale without its
// lists. The lists are Postgres's, swapped in whole under the sale's lock,
// so no change of them crosses; a code is only added where Redis has none,
// since Redis is where codes are spent: one it lost comes back used by whom
// Postgres recorded (recordInviteUses), or else unused.
func (o *Operator) restoreInvitations(ctx context.Context, saleID string) error {
	k := Keys(saleID)
	tx, err := o.catalog.Begin(ctx)
	if err != nil {
		return fmt.Errorf("restore invitations of sale %s: %w", saleID, err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	if _, err := o.catalog.lock(ctx, tx, saleID, false); err != nil {
		return err
	}
	var ids, groups []string
	var codes []struct {
		Digest []byte         `db:"digest"`
		UsedBy sql.NullString `db:"used_by"`
		UsedAt sql.NullTime   `db:"used_at"`
	}
	if err := cmp.Or(
		tx.SelectContext(ctx, &ids, `SELECT customer_id FROM sale_invitees WHERE sale_id = $1`, saleID),
		tx.SelectContext(ctx, &groups, `SELECT name FROM sale_groups WHERE sale_id = $1`, saleID),
		tx.SelectContext(ctx, &codes, `SELECT digest, used_by, used_at FROM sale_invite_codes WHERE sale_id = $1`, saleID),
	); err != nil {
		return fmt.Errorf("restore invitations of sale %s: %w", saleID, err)
	}
	if len(ids) > 0 && o.CustomerShopper == nil {
		return fmt.Errorf("restore invitations of sale %s: no way to derive customers' shopper ids is configured", saleID)
	}
	shoppers := make([]string, len(ids))
	for i, id := range ids {
		shoppers[i] = o.CustomerShopper(id)
	}
	for live, members := range map[string][]string{k.Invited: shoppers, k.Groups: groups} {
		next, err := o.rooms.stage(ctx, live, members)
		if err != nil {
			return err
		}
		sw, err := o.rooms.swapIn(ctx, next)
		if err != nil {
			o.rooms.unstage(ctx, next)
			return fmt.Errorf("restore invitations of sale %s: %w", saleID, err)
		}
		o.rooms.drop(ctx, sw)
	}
	for chunk := range slices.Chunk(codes, stageChunk) {
		_, err := o.rooms.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, c := range chunk {
				use := ""
				if c.UsedBy.Valid {
					use = c.UsedBy.String + ":" + strconv.FormatInt(c.UsedAt.Time.UnixMilli(), 10)
				}
				p.HSetNX(ctx, k.Invites, hex.EncodeToString(c.Digest), use)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("restore invite codes of sale %s: %w", saleID, err)
		}
	}
	return nil
}
