-- lease.lua: elects one admitter per sale across all nodes.
-- Atomically: a free lease goes to the caller and raises the fencing token;
-- the holder's own call extends it; anyone else gets nothing. Every admitting
-- script checks the token, so a node that lost its lease (paused, partitioned)
-- cannot admit even if it still thinks it holds it.
-- A sale that is gone (its meta deleted: a create whose commit failed was
-- taken back out of Redis while an admitter was about to tick it) gets no
-- lease, which would otherwise leave its lease and fence behind for ever.
-- KEYS: lease, fence, meta
-- ARGV[1] node id, ARGV[2] lease ttl ms
-- Returns the fencing token, or false when another node holds the lease or
-- the sale is gone.
if redis.call('EXISTS', KEYS[3]) == 0 then return false end
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return redis.call('GET', KEYS[2])
end
if holder then return false end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return tostring(redis.call('INCR', KEYS[2]))
