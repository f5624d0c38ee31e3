-- evict.lua: a node died; its shoppers did not say goodbye.
-- Atomically: every shopper the dead node held, and no live node holds
-- (present counts the nodes that hold it), is away from now on, exactly as if
-- its connection had closed now. It costs one step per shopper of the dead node.
-- KEYS: nodes, conns of the dead node, present, away
-- ARGV[1] dead node id
local now = now_ms()
redis.call('SREM', KEYS[1], ARGV[1])
local moved = 0
for _, shopper in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('HINCRBY', KEYS[3], shopper, -1) <= 0 then
    redis.call('HDEL', KEYS[3], shopper)
    redis.call('ZADD', KEYS[4], 'NX', now, shopper)
    moved = moved + 1
  end
end
redis.call('DEL', KEYS[2])
return moved
