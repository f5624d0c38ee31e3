package testenv

import "flag"

// keyGuard goes before a script's source in the tests: it shadows the
// global redis with one whose call and pcall first ask Redis which of the
// command's arguments are keys (COMMAND GETKEYS) and fail the script on a
// key it was not given in KEYS. Redis Cluster catches such a key only when
// it is in another slot; a key a script builds itself in its sale's slot
// (depart.lua's conns:<node>, once) runs there, yet no caller declared it,
// and a cluster client could not route it: the guard catches both, on one
// redis-server.
const keyGuard = `local guarded_redis = redis
local declared_keys = {}
for _, k in ipairs(KEYS) do declared_keys[k] = true end
local function guard_keys(run)
  return function(cmd, ...)
    local keys = guarded_redis.pcall('COMMAND', 'GETKEYS', cmd, ...)
    if type(keys) == 'table' and keys.err == nil then
      for _, k in ipairs(keys) do
        if not declared_keys[k] then error('UNDECLARED_KEY ' .. cmd .. ' touches ' .. k .. ', not in KEYS') end
      end
    end
    return run(cmd, ...)
  end
end
local redis = setmetatable({call = guard_keys(guarded_redis.call), pcall = guard_keys(guarded_redis.pcall)},
  {__index = guarded_redis})
`

// GuardKeys returns a script's source with the key guard before it: run,
// it fails with an error that says UNDECLARED_KEY as soon as it touches a
// key it was not given in KEYS. A package's TestMain swaps its scripts for
// guarded ones, so that every test of it checks their keys, unless the run
// measures (Measuring): the guard doubles the Redis calls a script makes.
func GuardKeys(src string) string { return keyGuard + src }

// Measuring reports whether the test binary runs benchmarks (-test.bench).
// Call it after flag.Parse.
func Measuring() bool {
	b := flag.Lookup("test.bench")
	return b != nil && b.Value.String() != ""
}
