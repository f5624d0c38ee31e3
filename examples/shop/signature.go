package shop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// signatureTolerance is how old (or how far ahead) a webhook's timestamp
// may be: an older delivery is a replay, or a clock to fix.
const signatureTolerance = 5 * time.Minute

// ErrBadSignature means a webhook is not Foyer's, or not this body, or not now.
var ErrBadSignature = errors.New("bad Foyer-Signature")

// VerifySignature checks a Foyer-Signature header, "t=<unix seconds>,v1=<hex>",
// against the body: v1 is HMAC-SHA256(secret, "<t>.<body>"), and t within
// 5 minutes of now. Any of several v1 may match (Foyer sends two while a
// secret is rotated).
func VerifySignature(secret, header string, body []byte, now time.Time) error {
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("%w: want t=<unix seconds>,v1=<hex>", ErrBadSignature)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > signatureTolerance || d < -signatureTolerance {
		return fmt.Errorf("%w: timestamp %s is %s from now", ErrBadSignature, ts, d.Round(time.Second))
	}
	want := Sign(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) { // constant time
			return nil
		}
	}
	return fmt.Errorf("%w: no v1 matches", ErrBadSignature)
}

// Sign is HMAC-SHA256(secret, "<t>.<body>"), the v1 of a Foyer-Signature.
func Sign(secret, t string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(t))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}
