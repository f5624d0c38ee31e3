-- depart.lua: a shopper's last connection on a node closed.
-- Atomically: the shopper leaves that node's set and, unless another node
-- still holds a connection of it (present counts them), becomes away from
-- now on: its place is kept for the grace period, then taken away by
-- tick.lua. It costs the same however many nodes and shoppers the sale has.
-- KEYS: conns of this node, present, away
-- ARGV[1] shopper id
-- Returns 1 if the shopper is away now, 0 if another node holds it.
if redis.call('SREM', KEYS[1], ARGV[1]) == 1 then
  if redis.call('HINCRBY', KEYS[2], ARGV[1], -1) > 0 then return 0 end
  redis.call('HDEL', KEYS[2], ARGV[1])
elseif tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0') > 0 then
  -- This node had been taken for dead (evict.lua emptied its set), and
  -- another node holds the shopper.
  return 0
end
redis.call('ZADD', KEYS[3], now_ms(), ARGV[1])
return 1
