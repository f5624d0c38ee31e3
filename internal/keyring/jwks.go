package keyring

import "encoding/base64"

// JWK is one public key as a JSON Web Key (RFC 8037 for Ed25519).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

// JWKS returns the ring's public keys, the signing key first, so a shop can verify Foyer's tokens
// without calling Foyer.
func (r *Ring) JWKS() map[string][]JWK {
	keys := []JWK{}
	for _, k := range r.ordered {
		if !k.until.IsZero() && r.now().After(k.until) {
			continue // nothing it signed is still valid
		}
		keys = append(keys, JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k.public),
			Kid: k.id, Use: "sig", Alg: "EdDSA"})
	}
	return map[string][]JWK{"keys": keys}
}
