-- evict.lua: a node died; its shoppers did not say goodbye.
-- Atomically: every shopper the dead node held, and no live node holds, is
-- away from now on, exactly as if its connection had closed now.
-- KEYS: nodes, conns of the dead node, away
-- ARGV[1] dead node id, ARGV[2] conns key prefix
local now = now_ms()
redis.call('SREM', KEYS[1], ARGV[1])
local others = redis.call('SMEMBERS', KEYS[1])
local moved = 0
for _, shopper in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local elsewhere = false
  for _, node in ipairs(others) do
    if redis.call('SISMEMBER', ARGV[2] .. node, shopper) == 1 then elsewhere = true; break end
  end
  if not elsewhere then
    redis.call('ZADD', KEYS[3], 'NX', now, shopper)
    moved = moved + 1
  end
end
redis.call('DEL', KEYS[2])
return moved
