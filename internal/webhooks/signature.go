package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The headers of every delivery.
const (
	SignatureHeader = "Foyer-Signature"
	EventIDHeader   = "Foyer-Event-Id"
	EventTypeHeader = "Foyer-Event-Type"
)

// DefaultTolerance is how far a signature's time may be from the receiver's
// clock before Verify refuses it: long enough for clock skew and a slow
// network, short enough that a captured delivery cannot be replayed later.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify.
var (
	// ErrBadSignature is a header that is missing, malformed, or whose
	// signatures all fail to match the body.
	ErrBadSignature = errors.New("webhook signature does not match")
	// ErrSignatureExpired is a matching signature made too long ago (or in
	// the future): a replay, or a clock far off.
	ErrSignatureExpired = errors.New("webhook signature timestamp outside the tolerance")
)

// Sign gives the Foyer-Signature header of body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
func Sign(secret string, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks the Foyer-Signature header of a delivery against its raw
// body, as a receiver must before it trusts the body: one v1 signature
// matches (several may be given), and its time t is within tolerance of
// now. It compares in constant time.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	sent, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrBadSignature
	}
	want := mac(secret, ts, body)
	matched := false
	for _, sig := range sigs {
		matched = hmac.Equal(sig, want) || matched
	}
	if !matched {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sent, 0)); d > tolerance || d < -tolerance {
		return ErrSignatureExpired
	}
	return nil
}
