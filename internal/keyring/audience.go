package keyring

import (
	"encoding/json"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Audience is an aud claim of one audience, written as a JSON string.
// jwt.ClaimStrings writes even one audience as an array (unless the package
// global jwt.MarshalSingleStringAsArray is turned off for every token of the
// process), while the protocol promises shops "aud is the sale id", and a
// shop's verifier may read it so. Audience reads either form, so a token
// written as an array before still verifies until it expires.
type Audience string

// MarshalJSON writes the audience as a string.
func (a Audience) MarshalJSON() ([]byte, error) { return json.Marshal(string(a)) }

// UnmarshalJSON reads a string, or an array of exactly one string.
func (a *Audience) UnmarshalJSON(data []byte) error {
	var all jwt.ClaimStrings
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	if len(all) != 1 {
		return fmt.Errorf("aud: %d audiences, want one", len(all))
	}
	*a = Audience(all[0])
	return nil
}

// Strings is the audience as jwt's validator reads it.
func (a Audience) Strings() jwt.ClaimStrings {
	if a == "" {
		return nil
	}
	return jwt.ClaimStrings{string(a)}
}
