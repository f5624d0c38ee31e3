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
	m := hmac.New(sha256.New, r.active.private.Seed())
	m.Write([]byte("foyer/derive/" + purpose))
	return m.Sum(nil)
}
