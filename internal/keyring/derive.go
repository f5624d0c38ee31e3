package keyring

import (
	"crypto/hmac"
	"crypto/sha256"
)

// DeriveSecret returns a 32-byte secret for one purpose, made from the
// signing key's seed with HMAC-SHA256, so a deployment that configured
// only its signing keys still has a secret every node agrees on. Different
// purposes get unrelated secrets, and none of them reveals the seed. It
// changes when the signing key is rotated.
func (r *Ring) DeriveSecret(purpose string) []byte {
	return derive(r.active.private.Seed(), purpose)
}

func derive(seed []byte, purpose string) []byte { return mac(seed, "foyer/derive/"+purpose) }

// sessionSecret is a key's secret for the tokens only Foyer's nodes read
// (SignPrivate). Its label is outside DeriveSecret's "foyer/derive/" space,
// so no purpose given to DeriveSecret, now or later, can yield it.
func sessionSecret(seed []byte) []byte { return mac(seed, "foyer/session-mac/v1") }

func mac(seed []byte, label string) []byte {
	m := hmac.New(sha256.New, seed)
	m.Write([]byte(label))
	return m.Sum(nil)
}
