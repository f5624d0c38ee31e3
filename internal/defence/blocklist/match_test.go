package blocklist

import (
	"net/netip"
	"testing"
)

func TestTheMostSpecificEntryIsReported(t *testing.T) {
	x := newIndex(1, []Entry{
		{Kind: KindNetwork, Value: "10.0.0.0/8", Reason: "wide"},
		{Kind: KindNetwork, Value: "10.1.0.0/16", Reason: "narrow"},
		{Kind: KindIP, Value: "10.1.2.3", Reason: "exact"},
		{Kind: KindShopper, Value: "v_1", Reason: "shopper"},
	})
	for _, c := range []struct {
		ip, shopper, want string
	}{
		{"10.1.2.3", "v_1", "exact"},
		{"10.1.2.4", "v_1", "shopper"},
		{"10.1.2.4", "", "narrow"},
		{"10.2.0.1", "", "wide"},
		{"", "v_1", "shopper"},
		{"11.0.0.1", "v_2", ""},
		{"", "", ""},
	} {
		var ip netip.Addr
		if c.ip != "" {
			ip = netip.MustParseAddr(c.ip)
		}
		e, ok := x.blocked(ip, c.shopper)
		if ok != (c.want != "") || e.Reason != c.want {
			t.Errorf("blocked(%q, %q) = %q, %v; want %q", c.ip, c.shopper, e.Reason, ok, c.want)
		}
	}
}
