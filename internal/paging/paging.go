// Package paging owns the admin API's keyset pages: how a page's query is
// read from its parameters (a status filter, a limit, a cursor) and what a
// cursor is. The orders API and the webhook delivery log both page this
// way, so a shop's client pages both alike. A cursor is opaque to clients:
// base64url of the id of the last row already read; only this package
// reads or writes it, so it may change shape (every cursor given before
// must still read).
package paging

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Rules say what a query of one list may hold.
type Rules struct {
	// Statuses are the statuses the filter may name.
	Statuses []string
	// DefaultLimit is the page size of a request without limit; MaxLimit
	// bounds what one request may ask for.
	DefaultLimit, MaxLimit int
	// Bad is the caller's sentinel: every error Parse returns wraps it,
	// and its message starts the error's.
	Bad error
}

// Query is a query as read: the zero Statuses means every status, the
// zero Cursor the first page.
type Query struct {
	Statuses []string // each once, in the order asked
	Limit    int
	Cursor   int64 // the id of the last row already read; 0: none
}

// Parse reads status (a comma list of r.Statuses), limit (1..r.MaxLimit)
// and cursor (from a previous page). What it cannot read is r.Bad.
func (r Rules) Parse(status, limit, cursor string) (Query, error) {
	q := Query{Limit: r.DefaultLimit}
	if status != "" {
		for _, s := range strings.Split(status, ",") {
			s = strings.TrimSpace(s)
			if !slices.Contains(r.Statuses, s) {
				return Query{}, fmt.Errorf("%w: status %q is none of %s", r.Bad, s, strings.Join(r.Statuses, ", "))
			}
			if !slices.Contains(q.Statuses, s) {
				q.Statuses = append(q.Statuses, s)
			}
		}
	}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > r.MaxLimit {
			return Query{}, fmt.Errorf("%w: limit must be a whole number from 1 to %d", r.Bad, r.MaxLimit)
		}
		q.Limit = n
	}
	if cursor != "" {
		id, ok := DecodeCursor(cursor)
		if !ok {
			return Query{}, fmt.Errorf("%w: cursor is not one this server gave", r.Bad)
		}
		q.Cursor = id
	}
	return q, nil
}

// EncodeCursor gives the cursor of the page after the row with id.
func EncodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

// DecodeCursor reads a cursor EncodeCursor gave; false for anything else.
func DecodeCursor(c string) (id int64, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	id, err = strconv.ParseInt(string(raw), 10, 64)
	if err != nil || id < 1 {
		return 0, false
	}
	return id, true
}
