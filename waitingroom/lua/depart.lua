-- depart.lua: a shopper's last connection on a node closed.
-- Atomically: the shopper leaves that node's set and, unless another node
-- still holds a connection of it, becomes away from now on: its place is
-- kept for the grace period, then taken away by tick.lua.
-- KEYS: nodes, conns of this node, away
-- ARGV[1] node id, ARGV[2] shopper id, ARGV[3] conns key prefix (conns:<node>)
redis.call('SREM', KEYS[2], ARGV[2])
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('SISMEMBER', ARGV[3] .. node, ARGV[2]) == 1 then return 0 end
end
redis.call('ZADD', KEYS[3], now_ms(), ARGV[2])
return 1
