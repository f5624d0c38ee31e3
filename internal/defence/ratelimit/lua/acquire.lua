-- acquire.lua: takes one of a key's connection slots, if one is free.
-- Atomically, so two nodes racing for the last slot never both get it. Below
-- the limit it is one ZCARD, one ZADD and a PEXPIRE. At the limit, the connections of
-- nodes that are gone stop counting first: a connection counts while its
-- node is alive (ARGV[6..]), and, whatever its node, while it is younger
-- than the cutoff, so a node that is new to the caller's list of the living
-- is not taken for dead. Only a key at its limit needs the list: below it,
-- a dead node's connections change no answer.
-- KEYS[1] the key's sorted set: connection id (<node>-<seq>) -> when counted (unix ms)
-- ARGV[1] now (unix ms), ARGV[2] connection id, ARGV[3] limit,
-- ARGV[4] the set's own TTL (ms), ARGV[5] the cutoff (unix ms; 0 from a caller
-- that has not heard lately who is alive, which takes nobody out),
-- ARGV[6..] the nodes alive, as the caller last heard
-- Returns 1 if the connection was counted (now or before), 0 if the key is at its limit.
local set, limit = KEYS[1], tonumber(ARGV[3])
-- A connection already counted is not counted again: a pipeline that go-redis
-- sends again after a lost answer must not find its own slot taken.
if redis.call('ZSCORE', set, ARGV[2]) then return 1 end
if redis.call('ZCARD', set) >= limit then
  local alive = {}
  for i = 6, #ARGV do alive[ARGV[i]] = true end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', set, '-inf', '(' .. ARGV[5])) do
    if not alive[string.match(id, '^(.*)%-')] then redis.call('ZREM', set, id) end
  end
  if redis.call('ZCARD', set) >= limit then return 0 end
end
redis.call('ZADD', set, ARGV[1], ARGV[2])
redis.call('PEXPIRE', set, ARGV[4])
return 1
