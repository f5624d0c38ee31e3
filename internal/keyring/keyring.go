// Package keyring holds the Ed25519 keys Foyer signs its tokens with, and
// signs and verifies JWTs with them. Verify accepts only EdDSA, only a known
// key id, and requires issuer, audience and expiry. Tokens that only Foyer's
// own nodes read (sessions) are MACed instead (SignPrivate, HS256), with a
// secret each key derives from its seed under a label of its own;
// VerifyPrivate accepts those, and EdDSA ones made before.
package keyring

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is the iss claim of every token Foyer signs.
const Issuer = "foyer"

// clockLeeway is how far apart the clocks of Redis and a node may be.
const clockLeeway = 5 * time.Second

// ErrBadKey means a configured key could not be decoded.
var ErrBadKey = errors.New("bad signing key")

// ErrKeyRetired means a token was signed by a key whose verification
// window has closed: every token it signed has expired by now.
var ErrKeyRetired = errors.New("signing key retired")

// Ring signs with one key and verifies with any of its keys.
type Ring struct {
	active  *key
	byID    map[string]*key
	ordered []*key // as configured: the signing key first
	now     func() time.Time
}

type key struct {
	id      string
	private ed25519.PrivateKey
	public  ed25519.PublicKey
	mac     []byte // the HMAC-SHA256 secret of the tokens only Foyer reads, derived from the seed
	// macHeader is the encoded header of the tokens MACed with mac. It is
	// the same for each, and jwt would encode its map again for every one.
	macHeader string
	until     time.Time // a retired key verifies until then; zero for the signing key
}

// New returns a ring that signs with the first seed and verifies with all.
// A seed is 32 bytes of base64 (standard or URL alphabet, padded or not).
// A retired key is given as "seed@<RFC 3339 time>": it verifies tokens
// until that time, which should be when the last token it signed expires,
// and after it a token it signed is refused with ErrKeyRetired.
func New(seeds ...string) (*Ring, error) {
	if len(seeds) == 0 {
		return nil, fmt.Errorf("%w: no key given", ErrBadKey)
	}
	r := &Ring{byID: map[string]*key{}, now: time.Now}
	for i, entry := range seeds {
		s, until, retired := strings.Cut(entry, "@")
		var verifyUntil time.Time
		if retired {
			if i == 0 {
				return nil, fmt.Errorf("key 1: %w: the signing key cannot be retired", ErrBadKey)
			}
			t, err := time.Parse(time.RFC3339, until)
			if err != nil {
				return nil, fmt.Errorf("key %d: %w: retirement time: %v", i+1, ErrBadKey, err)
			}
			verifyUntil = t
		}
		seed, err := decodeSeed(s)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		if !looksRandom(seed) {
			return nil, fmt.Errorf("key %d: %w: the seed is not random (all zero, or a few bytes repeated); make one with openssl rand -base64 32", i+1, ErrBadKey)
		}
		priv := ed25519.NewKeyFromSeed(seed)
		pub := priv.Public().(ed25519.PublicKey)
		sum := sha256.Sum256(pub)
		k := &key{id: base64.RawURLEncoding.EncodeToString(sum[:8]), private: priv, public: pub,
			mac: sessionSecret(seed), until: verifyUntil}
		if k.macHeader, err = encodedHeader(jwt.SigningMethodHS256, k.id); err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		// A key listed twice would be one key with two verification
		// windows, the later entry's winning: "A,A@<past time>" retires
		// the signing key itself, and the node refuses its own tokens.
		if prev := r.byID[k.id]; prev != nil {
			return nil, fmt.Errorf("key %d: %w: it is key %d again; list each key once", i+1, ErrBadKey, slices.Index(r.ordered, prev)+1)
		}
		if r.active == nil {
			r.active = k
		}
		r.ordered = append(r.ordered, k)
		r.byID[k.id] = k
	}
	return r, nil
}

// NewSeed returns a fresh random seed in the form New takes.
func NewSeed() string {
	_, priv, _ := ed25519.GenerateKey(nil)
	return base64.RawURLEncoding.EncodeToString(priv.Seed())
}

func decodeSeed(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == ed25519.SeedSize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: want %d bytes of base64", ErrBadKey, ed25519.SeedSize)
}

// minDistinctSeedBytes is the fewest different byte values New takes in a
// seed. 32 random bytes hold about 30; fewer than 8 happens by chance about
// once in 10^36 draws, so such a seed was typed, not drawn: all zeros, or a
// placeholder such as "AAAA...".
const minDistinctSeedBytes = 8

// looksRandom reports whether seed could have come from a random source.
func looksRandom(seed []byte) bool {
	var seen [256]bool
	n := 0
	for _, b := range seed {
		if !seen[b] {
			seen[b] = true
			n++
		}
	}
	return n >= minDistinctSeedBytes
}

// Sign signs claims with the active key, setting iss and the kid header.
func (r *Ring) Sign(claims jwt.Claims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = r.active.id
	s, err := t.SignedString(r.active.private)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// SignPrivate signs claims of a token that only Foyer's nodes verify (a
// session) with the active key's MAC secret (HMAC-SHA256), setting the kid
// header. Every node derives the same secret from the key, and a shop has
// no use for such a token, so Ed25519 buys nothing there but cost: it signs
// six times slower and verifies eight times slower (BenchmarkSessionTokens;
// a node makes a session for each new shopper and checks one on each
// reconnect). VerifyPrivate reads it; Verify refuses it.
func (r *Ring) SignPrivate(claims jwt.Claims) (string, error) {
	// What jwt's SignedString does, with the header encoded once.
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	signing := r.active.macHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := jwt.SigningMethodHS256.Sign(signing, r.active.mac)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// encodedHeader is the first part of a token signed with method by key id,
// as jwt encodes it.
func encodedHeader(method jwt.SigningMethod, id string) (string, error) {
	t := jwt.New(method)
	t.Header["kid"] = id
	h, err := json.Marshal(t.Header)
	if err != nil {
		return "", fmt.Errorf("encode token header: %w", err)
	}
	return t.EncodeSegment(h), nil
}

// Verify parses a token signed by one of the ring's keys into claims, and
// checks its issuer, audience and expiry. Errors wrap jwt's, so callers can
// tell jwt.ErrTokenExpired from the rest.
func (r *Ring) Verify(token string, claims jwt.Claims, audience string) error {
	return r.verify(token, claims, audience, jwt.SigningMethodEdDSA.Alg())
}

// VerifyPrivate is Verify for tokens made by SignPrivate, and for those
// signed with Sign before (sessions were, until they were MACed), which
// verify until they expire.
func (r *Ring) VerifyPrivate(token string, claims jwt.Claims, audience string) error {
	return r.verify(token, claims, audience, jwt.SigningMethodHS256.Alg(), jwt.SigningMethodEdDSA.Alg())
}

func (r *Ring) verify(token string, claims jwt.Claims, audience string, methods ...string) error {
	opts := []jwt.ParserOption{
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		// Tokens carry times from Redis's clock and are checked on a node's:
		// a little leeway keeps a node a second behind from refusing a token
		// issued a moment ago. Holds are enforced on Redis's clock anyway.
		jwt.WithLeeway(clockLeeway),
		jwt.WithTimeFunc(r.now),
	}
	// What jwt's ParseWithClaims does, but for the signature's check (see
	// signed). The errors wrap jwt's as it would.
	t, parts, err := jwt.NewParser(opts...).ParseUnverified(token, claims)
	if err != nil {
		return err
	}
	if alg := t.Method.Alg(); !slices.Contains(methods, alg) {
		return fmt.Errorf("%w: signing method %s is not accepted here", jwt.ErrTokenSignatureInvalid, alg)
	}
	k, err := r.keyOf(t)
	if err != nil {
		return fmt.Errorf("%w: %w", jwt.ErrTokenUnverifiable, err)
	}
	if !k.signed(t.Method, parts[0]+"."+parts[1], t.Signature) {
		return fmt.Errorf("%w: not signed by key %s", jwt.ErrTokenSignatureInvalid, k.id)
	}
	if err := jwt.NewValidator(opts...).Validate(claims); err != nil {
		return fmt.Errorf("%w: %w", jwt.ErrTokenInvalidClaims, err)
	}
	return nil
}

// keyOf is the ring's key a token names (kid), while it may verify.
func (r *Ring) keyOf(t *jwt.Token) (*key, error) {
	kid, _ := t.Header["kid"].(string)
	k, ok := r.byID[kid]
	if !ok {
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	if !k.until.IsZero() && r.now().After(k.until) {
		return nil, fmt.Errorf("key %s: %w at %s", kid, ErrKeyRetired, k.until.Format(time.RFC3339))
	}
	return k, nil
}

// signed reports whether sig is the key's signature of text by method.
//
// The key follows the method, which the caller's list of methods has
// already allowed: a MACed token is checked against the secret, never
// against the public key (which the JWKS publishes).
//
// An Ed25519 token is checked by signing text again and comparing, not by
// verifying with the public key: Ed25519 signatures are deterministic (RFC
// 8032), so the one signature a key makes of a text is the only one this
// accepts, which is as strict as verifying (Go's verify takes one encoding
// of a signature too) at half the cost (BenchmarkReservationTokens):
// the check was a tenth of a gateway's CPU in a sale. It needs the private
// key, which every node holds for every key of its ring. A shop, holding
// only the JWKS, verifies as usual.
func (k *key) signed(method jwt.SigningMethod, text string, sig []byte) bool {
	switch method.Alg() {
	case jwt.SigningMethodHS256.Alg():
		mac := hmac.New(sha256.New, k.mac)
		mac.Write([]byte(text))
		return hmac.Equal(sig, mac.Sum(nil))
	case jwt.SigningMethodEdDSA.Alg():
		return subtle.ConstantTimeCompare(sig, ed25519.Sign(k.private, []byte(text))) == 1
	}
	return false
}

// NewClaims returns registered claims for a token about subject, for audience,
// with this id, valid for ttl from now.
func (r *Ring) NewClaims(subject, audience, id string, ttl time.Duration) jwt.RegisteredClaims {
	now := r.now()
	return jwt.RegisteredClaims{
		Issuer: Issuer, Subject: subject, Audience: jwt.ClaimStrings{audience}, ID: id,
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
}
