package operators

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Passwords are hashed with argon2id (golang.org/x/crypto/argon2, kept by
// the Go team) and stored in the PHC string format,
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<threads>$<salt>$<hash>, so that a
// hash made with an older cost still verifies after the cost is raised.

// Cost is argon2id's cost.
type Cost struct {
	MemoryKiB uint32
	Passes    uint32
	Threads   uint8
}

// DefaultCost is OWASP's first recommended argon2id setting (19 MiB, 2
// passes, 1 thread): tens of milliseconds a hash here.
var DefaultCost = Cost{MemoryKiB: 19 * 1024, Passes: 2, Threads: 1}

const (
	saltLen = 16
	hashLen = 32
	// maxMemoryKiB bounds the memory a stored hash may ask of a check.
	maxMemoryKiB = 1 << 20
)

var errBadHash = errors.New("stored password hash unreadable")

// hash hashes password with the store's cost, waiting for a hashing slot.
func (s *Store) hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (Go 1.24)
	release, err := s.slot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	c := s.Cost
	sum := argon2.IDKey([]byte(password), salt, c.Passes, c.MemoryKiB, c.Threads, hashLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, c.MemoryKiB, c.Passes, c.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sum)), nil
}

// matches reports whether password is the one encoded was made from.
func (s *Store) matches(ctx context.Context, encoded, password string) (bool, error) {
	c, salt, want, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	release, err := s.slot(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	got := argon2.IDKey([]byte(password), salt, c.Passes, c.MemoryKiB, c.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// slot waits for one of the hashing slots, or for ctx.
func (s *Store) slot(ctx context.Context) (release func(), err error) {
	select {
	case s.hashing <- struct{}{}:
		return func() { <-s.hashing }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait to hash a password: %w", ctx.Err())
	}
}

func parseHash(encoded string) (c Cost, salt, sum []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return Cost{}, nil, nil, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &c.MemoryKiB, &c.Passes, &c.Threads); err != nil {
		return Cost{}, nil, nil, fmt.Errorf("%w: %v", errBadHash, err)
	}
	if c.MemoryKiB == 0 || c.MemoryKiB > maxMemoryKiB || c.Passes == 0 || c.Passes > 16 || c.Threads == 0 {
		return Cost{}, nil, nil, fmt.Errorf("%w: cost out of bounds", errBadHash)
	}
	if salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return Cost{}, nil, nil, fmt.Errorf("%w: %v", errBadHash, err)
	}
	if sum, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(sum) < 16 {
		return Cost{}, nil, nil, fmt.Errorf("%w: bad hash", errBadHash)
	}
	return c, salt, sum, nil
}
