package waitingroom

import (
	_ "embed"

	"github.com/redis/go-redis/v9"
)

// The scripts say in their own header what each guarantees atomically.
var (
	//go:embed lua/load.lua
	loadLua    string
	loadScript = redis.NewScript(loadLua)

	//go:embed lua/join.lua
	joinLua    string
	joinScript = redis.NewScript(joinLua)

	//go:embed lua/leave.lua
	leaveLua    string
	leaveScript = redis.NewScript(leaveLua)

	//go:embed lua/admit.lua
	admitLua    string
	admitScript = redis.NewScript(admitLua)

	//go:embed lua/tick.lua
	tickLua    string
	tickScript = redis.NewScript(tickLua)
)

var (
	//go:embed lua/lease.lua
	leaseLua    string
	leaseScript = redis.NewScript(leaseLua)
)

var (
	//go:embed lua/control.lua
	controlLua    string
	controlScript = redis.NewScript(controlLua)
)

var (
	//go:embed lua/arrive.lua
	arriveLua    string
	arriveScript = redis.NewScript(arriveLua)

	//go:embed lua/depart.lua
	departLua    string
	departScript = redis.NewScript(departLua)

	//go:embed lua/evict.lua
	evictLua    string
	evictScript = redis.NewScript(evictLua)
)
