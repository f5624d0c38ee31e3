-- lease.lua: elects one admitter per sale across all nodes.
-- Atomically: a free lease goes to the caller and raises the fencing token;
-- the holder's own call extends it; anyone else gets nothing. Every admitting
-- script checks the token, so a node that lost its lease (paused, partitioned)
-- cannot admit even if it still thinks it holds it.
-- KEYS: lease, fence
-- ARGV[1] node id, ARGV[2] lease ttl ms
-- Returns the fencing token, or false when another node holds the lease.
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return redis.call('GET', KEYS[2])
end
if holder then return false end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return tostring(redis.call('INCR', KEYS[2]))
