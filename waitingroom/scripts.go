package waitingroom

import (
	"embed"
	"fmt"

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
	confirmScript = script("confirm")
	refundScript  = script("refund")
	releaseScript = script("release")
	swapSetScript = script("swapset")
)

// An operator's changes to a sale before it opens (saleedit.go,
// saledelete.go), and its scheduled messages (messages.go).
var (
	editScript     = script("edit")
	deleteScript   = script("delete")
	scheduleScript = script("schedule")
)

//go:embed lua/*.lua
var luaFiles embed.FS

// script loads lua/<name>.lua after the shared prelude. The files are
// embedded, so a missing one is a build mistake that must stop the program at
// once.
func script(name string) *redis.Script {
	src, err := scriptSource(name)
	if err != nil {
		panic("waitingroom: " + err.Error())
	}
	return redis.NewScript(src)
}

// scriptSource is lua/<name>.lua as Redis runs it: lua/lib.lua (the id
// format, the batch format, Redis's clock and the one "declare sold out"),
// then the script. Scripts cannot import each other; this is how they share
// one spelling. The text is the same in every build, and so is each SHA.
func scriptSource(name string) (string, error) {
	lib, err := luaFiles.ReadFile("lua/lib.lua")
	if err != nil {
		return "", fmt.Errorf("no script prelude: %w", err)
	}
	src, err := luaFiles.ReadFile("lua/" + name + ".lua")
	if err != nil {
		return "", fmt.Errorf("no script %s: %w", name, err)
	}
	return string(lib) + string(src), nil
}
