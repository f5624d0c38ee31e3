-- acquire.lua: takes one of a key's connection slots, if one is free.
-- Atomically: connections whose lease ran out stop counting, then the new
-- connection is counted only if fewer than the limit remain, so two nodes
-- racing for the last slot never both get it.
-- KEYS[1] the key's sorted set: connection id -> lease expiry (unix ms)
-- ARGV[1] now (unix ms), ARGV[2] the new lease's expiry (unix ms),
-- ARGV[3] connection id, ARGV[4] limit, ARGV[5] the set's own TTL (ms)
-- Returns 1 if the connection was counted, 0 if the key is at its limit.
local set = KEYS[1]
redis.call('ZREMRANGEBYSCORE', set, '-inf', ARGV[1])
if redis.call('ZCARD', set) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', set, ARGV[2], ARGV[3])
-- A key nobody refreshes disappears with its last lease.
redis.call('PEXPIRE', set, ARGV[5])
return 1
