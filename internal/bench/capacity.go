package bench

import "fmt"

// A run's processes each hold at most 20,000 open files and sockets here
// (the machine's limit): a crowd larger than one process holds is spread
// over gateways, players and bare servers by arithmetic, and a run that
// cannot fit is refused before anything starts, not found out as a wall of
// connection errors half way through.

// gatewayCeiling is the most shoppers one gateway holds: its own ceiling,
// FOYER_MAX_CONNECTIONS, left at its default by the bench.
const gatewayCeiling = 18_000

// playerCeiling is the most shoppers one load generator process plays: the
// gateways' ceiling, leaving the process room under its 20,000 open files
// for its HTTP pool, its pipes and its own files (a player at the load
// generator's MaxShoppersPerProcess would have none).
const playerCeiling = 18_000

// socketCeiling is the most sockets one bare server, or one crowd of its
// clients, may be asked to hold: the 20,000 open files, less room for the
// process's own.
const socketCeiling = 19_500

// procsFor is how many load generator processes play shoppers: one per
// gateway, or more when one process could not hold its share.
func procsFor(shoppers, nodes int) int {
	return max(nodes, (shoppers+playerCeiling-1)/playerCeiling)
}

// checkCapacity refuses a crowd the run's processes cannot hold: shoppers
// go round robin over the gateways, so each holds its share, rounded up.
func checkCapacity(o *Options) error {
	if o.Nodes < 1 {
		return fmt.Errorf("-nodes %d: at least one gateway is needed", o.Nodes)
	}
	for _, crowd := range []struct {
		flag     string
		shoppers int
	}{
		{"-shoppers", o.Shoppers},
		{"-sustained-shoppers (with its latecomers)", o.SustainedShoppers + int(o.SustainedLatecomers*float64(o.SustainedShoppers))},
		{"-slow-shoppers", o.SlowShoppers},
		{"-sale-shoppers", o.SaleShoppers},
	} {
		if each := (crowd.shoppers + o.Nodes - 1) / o.Nodes; each > gatewayCeiling {
			return fmt.Errorf("%s %d over -nodes %d is %d a gateway, over its ceiling of %d (FOYER_MAX_CONNECTIONS): use -nodes %d or more",
				crowd.flag, crowd.shoppers, o.Nodes, each, gatewayCeiling, (crowd.shoppers+gatewayCeiling-1)/gatewayCeiling)
		}
	}
	if o.Procs > 0 && (o.Shoppers+o.Procs-1)/o.Procs > playerCeiling {
		return fmt.Errorf("-procs %d: %d shoppers are %d a process, over the %d one process plays here: use -procs %d or more (or leave it out)",
			o.Procs, o.Shoppers, (o.Shoppers+o.Procs-1)/o.Procs, playerCeiling, (o.Shoppers+playerCeiling-1)/playerCeiling)
	}
	if o.BarePerServer > socketCeiling {
		return fmt.Errorf("-bare-per-server %d: one process holds at most %d sockets here (20,000 open files, less its own)",
			o.BarePerServer, socketCeiling)
	}
	return nil
}
