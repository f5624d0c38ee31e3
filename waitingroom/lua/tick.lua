-- tick.lua: the admitter's housekeeping for one sale, by Redis's clock.
-- Atomically: opens the sale at starts_at and ends it at ends_at; releases
-- holds past their expiry back to available; declares the sale sold out when
-- every unit is sold. Each change is announced on the event stream.
-- KEYS: meta, shoppers, res, holds, events, fence
-- ARGV[1] fencing token, ARGV[2] event stream max length, ARGV[3] most holds to release
-- Returns {state after the tick, outflow rate}.
local meta, shoppers, res, holds, events, fence =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
if redis.call('GET', fence) ~= ARGV[1] then return redis.error_reply('FENCED another node admits this sale') end
local maxlen = ARGV[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HGET', meta, 'state')
local function announce(kind, body)
  redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'type', kind, 'data', cjson.encode(body))
end
local function set_state(s)
  state = s
  redis.call('HSET', meta, 'state', s)
  announce('state', {state = s})
end
local rate = redis.call('HGET', meta, 'rate')
if state == 'ended' or state == 'sold_out' then return {state, rate} end
if now >= tonumber(redis.call('HGET', meta, 'ends_at_ms')) then
  set_state('ended')
  return {state, rate}
end
if state == 'scheduled' and now >= tonumber(redis.call('HGET', meta, 'starts_at_ms')) then
  set_state('open')
end
local expired = redis.call('ZRANGEBYSCORE', holds, '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
if #expired > 0 then
  local released = {}
  for _, id in ipairs(expired) do
    local r = cjson.decode(redis.call('HGET', res, id))
    r.status = 'expired'
    redis.call('HSET', res, id, cjson.encode(r))
    redis.call('HDEL', shoppers, r.shopper)
    redis.call('ZREM', holds, id)
    released[#released + 1] = {shopper = r.shopper, reservation = id}
  end
  redis.call('HINCRBY', meta, 'available', #released)
  redis.call('HINCRBY', meta, 'held', -#released)
  announce('expired', {released = released})
end
if redis.call('HGET', meta, 'available') == '0' and redis.call('HGET', meta, 'held') == '0' then
  set_state('sold_out')
end
return {state, rate}
