package waitingroom

import (
	"strings"
	"testing"
)

// TestASalesKeysAreItsPrefixAndTheirNames: Keys slices every name out of
// one string; each must still be exactly the sale's prefix and its own
// name, the one its scripts and other nodes use.
func TestASalesKeysAreItsPrefixAndTheirNames(t *testing.T) {
	k := Keys("s_keys")
	want := map[string]string{
		k.Meta: "meta", k.Queue: "queue", k.Pre: "pre", k.Draw: "draw", k.Presort: "presort", k.Gone: "gone",
		k.Journeys: "journeys", k.Shoppers: "shoppers", k.Res: "res", k.Batches: "batches", k.Holds: "holds",
		k.Outbox: "outbox", k.Events: "events", k.Lease: "admitter", k.Fence: "fence", k.Nodes: "nodes",
		k.Away: "away", k.Flags: "flags", k.Bought: "bought", k.Customers: "customers", k.Invited: "invited",
		k.Groups: "groups", k.Invites: "invites", k.Spent: "spent", k.Present: "present", k.Scheduled: "scheduled",
		k.Arrivals: "arrivals", k.History: "history",
	}
	if len(want) != len(keyNames) {
		t.Fatalf("%d distinct keys, want %d", len(want), len(keyNames))
	}
	for key, name := range want {
		if got, ok := strings.CutPrefix(key, "sale:{s_keys}:"); !ok || got != name {
			t.Errorf("key %q, want sale:{s_keys}:%s", key, name)
		}
	}
	if got := k.Beside("answers"); got != "sale:{s_keys}:answers" {
		t.Errorf("Beside: %q", got)
	}
	if got := k.Conns("n1"); got != "sale:{s_keys}:conns:n1" {
		t.Errorf("Conns: %q", got)
	}
}
