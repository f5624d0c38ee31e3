-- tick.lua: the admitter's housekeeping for one sale, by Redis's clock.
-- Atomically: opens the sale at starts_at and ends it at ends_at; releases
-- holds past their expiry back to available; takes shoppers who have been
-- away longer than the grace period out of the queue (those behind move up)
-- and releases their holds; declares the sale sold out when every unit is
-- sold. Each change is announced on the event stream.
-- KEYS: meta, shoppers, res, holds, events, fence, queue, gone, away
-- ARGV[1] fencing token, ARGV[2] event stream max length,
-- ARGV[3] most holds or shoppers to release, ARGV[4] grace period ms
-- Returns {state after the tick, outflow rate}.
local meta, shoppers, res, holds, events, fence, queue, gone, away =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
if redis.call('GET', fence) ~= ARGV[1] then return redis.error_reply('FENCED another node admits this sale') end
local maxlen, most, grace = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HGET', meta, 'state')
local rate = redis.call('HGET', meta, 'rate')
local function announce(kind, body)
  redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'type', kind, 'data', cjson.encode(body))
end
local function set_state(s)
  state = s
  redis.call('HSET', meta, 'state', s)
  announce('state', {state = s})
end
if state == 'ended' or state == 'sold_out' then return {state, rate} end
if now >= tonumber(redis.call('HGET', meta, 'ends_at_ms')) then
  set_state('ended')
  return {state, rate}
end
if state == 'scheduled' and now >= tonumber(redis.call('HGET', meta, 'starts_at_ms')) then
  set_state('open')
end

-- release gives a held reservation's unit back to the sale.
local released = {}
local function release(id)
  local r = cjson.decode(redis.call('HGET', res, id))
  if r.status ~= 'held' then return end
  r.status = 'expired'
  redis.call('HSET', res, id, cjson.encode(r))
  redis.call('HDEL', shoppers, r.shopper)
  redis.call('ZREM', holds, id)
  redis.call('HINCRBY', meta, 'available', 1)
  redis.call('HINCRBY', meta, 'held', -1)
  released[#released + 1] = {shopper = r.shopper, reservation = id}
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', holds, '-inf', now, 'LIMIT', 0, most)) do
  release(id)
end
local mark = tonumber(redis.call('HGET', meta, 'mark'))
for _, shopper in ipairs(redis.call('ZRANGEBYSCORE', away, '-inf', now - grace, 'LIMIT', 0, most)) do
  redis.call('ZREM', away, shopper)
  local ticket = redis.call('ZSCORE', queue, shopper)
  if ticket then
    redis.call('ZREM', queue, shopper)
    if tonumber(ticket) > mark then
      redis.call('ZADD', gone, ticket, ticket)
      announce('gone', {ticket = tonumber(ticket)})
    end
  end
  local id = redis.call('HGET', shoppers, shopper)
  if id then release(id) end
end
if #released > 0 then announce('expired', {released = released}) end
if redis.call('HGET', meta, 'available') == '0' and redis.call('HGET', meta, 'held') == '0' then
  set_state('sold_out')
end
return {state, rate}
