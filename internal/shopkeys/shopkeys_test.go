package shopkeys

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestAShopKeyIsSplitAtTheIdEvenWhenItsSecretHoldsUnderscores(t *testing.T) {
	id, secret, ok := split("fk_0123456789ab_a_b-c")
	if !ok || id != "0123456789ab" || secret != "a_b-c" {
		t.Errorf("split: %q %q %v", id, secret, ok)
	}
	for _, bad := range []string{"", "fk_", "fk_0123456789ab", "fk_0123456789ab_", "fk_short_secret",
		"xk_0123456789ab_secret", "fk_0123456789ab_" + strings.Repeat("a", 300)} {
		if _, _, ok := split(bad); ok {
			t.Errorf("split(%q) took it", bad)
		}
	}
}

func TestShopKeyRequestsAreCheckedAndTheirScopesSortedOnce(t *testing.T) {
	got, err := Check("back office", []string{"webhooks", "orders", "webhooks"})
	if err != nil || !slices.Equal(got, []string{"orders", "webhooks"}) {
		t.Errorf("Check: %v %v", got, err)
	}
	for name, c := range map[string]struct {
		name   string
		scopes []string
	}{
		"blank name":   {" ", []string{"orders"}},
		"long name":    {strings.Repeat("é", MaxNameLen+1), []string{"orders"}},
		"control":      {"a\x00b", []string{"orders"}},
		"bidi control": {"a\u202eb", []string{"orders"}},
		"no scopes":    {"a", nil},
		"bad scope":    {"a", []string{"admin"}},
	} {
		if _, err := Check(c.name, c.scopes); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: %v, want ErrBadRequest", name, err)
		}
	}
}
