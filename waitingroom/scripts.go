package waitingroom

import (
	"embed"

	"github.com/redis/go-redis/v9"
)

// The scripts say in their own header what each guarantees atomically.
var (
	loadScript    = script("load")
	joinScript    = script("join")
	leaveScript   = script("leave")
	admitScript   = script("admit")
	tickScript    = script("tick")
	leaseScript   = script("lease")
	controlScript = script("control")
	arriveScript  = script("arrive")
	departScript  = script("depart")
	evictScript   = script("evict")
	findScript    = script("find")
	flagScript    = script("flag")
)

//go:embed lua/*.lua
var luaFiles embed.FS

// script loads lua/<name>.lua. The files are embedded, so a missing one is a
// build mistake that must stop the program at once.
func script(name string) *redis.Script {
	src, err := luaFiles.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic("waitingroom: no script " + name + ": " + err.Error())
	}
	return redis.NewScript(string(src))
}
