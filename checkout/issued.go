package checkout

import (
	"crypto/sha256"
	"sync"
	"time"
)

// issuedMost bounds the tokens a node remembers having signed: about 330 B
// each (digest, claims, the map's share), so 5 MB at most. Past it the
// oldest is forgotten, and its checkout is checked by its signature, as
// every token was before: a node that admits 1,000 shoppers a second
// remembers the last 16 s of them, which covers a bot-fast checkout and not
// a human one taking a minute.
const issuedMost = 16384

// issued remembers the reservation tokens this node signed lately, by a
// digest of their whole text, with the claims they carry. A shopper's
// checkout usually comes to the node that pushed it its token (each node
// names itself in the admitted message's checkout URL), and a text this
// node signed itself needs no signature check: its signature is the one
// the key made, which is all the check would prove. The claims' times and
// sale are still checked. This spares an Ed25519 signing per checkout, the
// costliest step of the gateway's own work on one.
type issued struct {
	mu     sync.Mutex
	byText map[[sha256.Size]byte]*signedHere
	order  [][sha256.Size]byte // the digests in the order signed: a ring, next is the oldest once full
	next   int
}

// signedHere is a token this node signed: its claims, and whether it was
// presented here since (a checkout, a redeem).
type signedHere struct {
	claims    *ReservationClaims
	presented bool
}

// remember notes a token this node signed, with its claims.
func (m *issued) remember(token string, claims *ReservationClaims) {
	digest := sha256.Sum256([]byte(token))
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byText == nil {
		m.byText = make(map[[sha256.Size]byte]*signedHere)
	}
	if _, ok := m.byText[digest]; ok { // the same reservation told again: one entry
		return
	}
	if len(m.order) < issuedMost {
		m.order = append(m.order, digest)
	} else {
		delete(m.byText, m.order[m.next])
		m.order[m.next] = digest
		m.next = (m.next + 1) % issuedMost
	}
	m.byText[digest] = &signedHere{claims: claims}
}

// valid returns the claims of a token this node signed, when they hold for
// the sale now: issued already and not expired, by this node's clock with no
// leeway. Anything else (a token signed elsewhere, or forgotten, or near the
// edge of its times) returns nil, for the signature check and jwt's
// validation to decide, with their errors: what is accepted here is a
// subset of what they accept. first reports that this is the first time
// the token was found valid here: it was not presented before.
func (m *issued) valid(saleID, token string, now time.Time) (claims *ReservationClaims, first bool) {
	digest := sha256.Sum256([]byte(token))
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.byText[digest]
	if e == nil {
		return nil, false
	}
	c := e.claims
	if string(c.Audience) != saleID || c.IssuedAt == nil || c.ExpiresAt == nil ||
		now.Before(c.IssuedAt.Time) || !now.Before(c.ExpiresAt.Time) || c.ID == "" || c.Subject == "" {
		return nil, false
	}
	first, e.presented = !e.presented, true
	return c, first
}
