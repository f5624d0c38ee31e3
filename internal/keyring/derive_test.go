package keyring

import (
	"bytes"
	"testing"
)

func TestADerivedSecretIsTheSameOnEveryNodeAndApartPerPurposeAndKey(t *testing.T) {
	seed, other := NewSeed(), NewSeed()
	node1, _ := New(seed)
	node2, _ := New(seed, other+"@2030-01-01T00:00:00Z")
	rotated, _ := New(other)
	a := node1.DeriveSecret("pow")
	if len(a) != 32 {
		t.Fatalf("a secret of %d bytes, want 32", len(a))
	}
	if !bytes.Equal(a, node2.DeriveSecret("pow")) {
		t.Error("two rings with the same signing key derive different secrets")
	}
	if bytes.Equal(a, node1.DeriveSecret("other")) {
		t.Error("two purposes share a secret")
	}
	if bytes.Equal(a, rotated.DeriveSecret("pow")) {
		t.Error("two signing keys derive the same secret")
	}
}
