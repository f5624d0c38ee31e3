package pow

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

const (
	formatVersion = 1
	nonceSize     = 16
	payloadSize   = 2 + 8 + nonceSize // version, difficulty, expiry, nonce
	macLabel      = "foyer/pow"       // keeps these macs apart from any other use of a secret
)

// encoding is strict so that one payload has exactly one spelling.
var encoding = base64.RawURLEncoding.Strict()

// claims are what a challenge says, once decoded.
type claims struct {
	difficulty int
	expiresAt  time.Time
	nonce      [nonceSize]byte
}

// Issue returns a challenge for this shopper joining this sale, to be solved
// within g.TTL with at least difficulty leading zero bits. Difficulty 0 means
// off: Issue returns "" and the caller should not ask for a solution.
func (g *Guard) Issue(saleID, shopperID string, difficulty int) (string, error) {
	if difficulty < 0 || difficulty > MaxDifficulty {
		return "", fmt.Errorf("pow: difficulty %d is outside 0..%d", difficulty, MaxDifficulty)
	}
	if difficulty == 0 {
		return "", nil
	}
	payload := make([]byte, 2, payloadSize)
	payload[0], payload[1] = formatVersion, byte(difficulty)
	payload = binary.BigEndian.AppendUint64(payload, uint64(g.Now().Add(g.TTL).UnixMilli()))
	payload = payload[:payloadSize]
	rand.Read(payload[2+8:]) // never fails: crypto/rand crashes the program instead
	return encoding.EncodeToString(payload) + "." + encoding.EncodeToString(g.mac(payload, saleID, shopperID)), nil
}

// mac signs the payload together with the sale and shopper it is for. The
// lengths keep ("ab", "c") and ("a", "bc") apart.
func (g *Guard) mac(payload []byte, saleID, shopperID string) []byte {
	m := hmac.New(sha256.New, g.secret)
	m.Write([]byte(macLabel))
	m.Write(payload)
	for _, id := range []string{saleID, shopperID} {
		m.Write(binary.BigEndian.AppendUint32(nil, uint32(len(id))))
		m.Write([]byte(id))
	}
	return m.Sum(nil)
}

// decode splits a challenge into its claims and mac without checking the mac:
// the client reads the difficulty this way, the server checks the mac after.
func decode(challenge string) (c claims, payload, mac []byte, err error) {
	encodedPayload, encodedMAC, ok := strings.Cut(challenge, ".")
	if !ok {
		return c, nil, nil, errors.New("challenge has no mac")
	}
	if payload, err = encoding.DecodeString(encodedPayload); err != nil {
		return c, nil, nil, fmt.Errorf("challenge payload: %w", err)
	}
	if mac, err = encoding.DecodeString(encodedMAC); err != nil {
		return c, nil, nil, fmt.Errorf("challenge mac: %w", err)
	}
	if len(payload) != payloadSize || len(mac) != sha256.Size {
		return c, nil, nil, fmt.Errorf("challenge of %d+%d bytes, want %d+%d", len(payload), len(mac), payloadSize, sha256.Size)
	}
	if payload[0] != formatVersion {
		return c, nil, nil, fmt.Errorf("challenge version %d, want %d", payload[0], formatVersion)
	}
	c.difficulty = int(payload[1])
	if c.difficulty > MaxDifficulty {
		return c, nil, nil, fmt.Errorf("challenge difficulty %d is above %d", c.difficulty, MaxDifficulty)
	}
	c.expiresAt = time.UnixMilli(int64(binary.BigEndian.Uint64(payload[2:10])))
	copy(c.nonce[:], payload[10:])
	return c, payload, mac, nil
}
