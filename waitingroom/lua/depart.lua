-- depart.lua: shoppers' last connections on a node closed (a node gathers
-- its departures of a few milliseconds into one call: Presence.Depart).
-- Atomically, for each shopper: it leaves that node's set and, unless
-- another node still holds a connection of it (present counts them),
-- becomes away from now on: its place is kept for the grace period, then
-- taken away by tick.lua. It costs the same however many nodes and shoppers
-- the sale has.
-- KEYS: conns of this node, present, away
-- ARGV: shopper ids
-- Returns how many of them are away now (the others are held by another node).
local now = now_ms()
local away = 0
for i = 1, #ARGV do
  local shopper, held = ARGV[i], false
  if redis.call('SREM', KEYS[1], shopper) == 1 then
    if redis.call('HINCRBY', KEYS[2], shopper, -1) > 0 then
      held = true
    else
      redis.call('HDEL', KEYS[2], shopper)
    end
  elseif tonumber(redis.call('HGET', KEYS[2], shopper) or '0') > 0 then
    -- This node had been taken for dead (evict.lua emptied its set), and
    -- another node holds the shopper.
    held = true
  end
  if not held then
    redis.call('ZADD', KEYS[3], now, shopper)
    away = away + 1
  end
end
return away
