-- confirm.lua: turns a held reservation into a sale.
-- Atomically: only a held, unexpired reservation of this shopper is confirmed,
-- and only once; its unit moves from held to sold; it enters the sale's
-- outbox, from which it is published to the order workers until they have it,
-- so a confirmed checkout cannot be lost between Redis and the stream. When
-- that was the last unit, the sale is declared sold out. A shopper may take
-- more than its held unit, up to the sale's per-shopper limit, from the
-- units still available: all or nothing.
-- KEYS: meta, res, holds, outbox, events
-- ARGV[1] reservation id, ARGV[2] shopper id, ARGV[3] event stream max length,
-- ARGV[4] quantity
-- Returns the reservation as JSON with the sale's price and the quantity added.
local meta, res, holds, outbox, events = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local raw = redis.call('HGET', res, ARGV[1])
if not raw then return redis.error_reply('UNKNOWN_RESERVATION no such reservation for this shopper') end
local r = cjson.decode(raw)
if r.shopper ~= ARGV[2] then return redis.error_reply('UNKNOWN_RESERVATION no such reservation for this shopper') end
if r.status == 'confirmed' then return redis.error_reply('TOKEN_REUSED reservation already confirmed') end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if r.status ~= 'held' or now >= r.expires_at then return redis.error_reply('RESERVATION_EXPIRED the hold has lapsed') end
local quantity = tonumber(ARGV[4])
if quantity > tonumber(redis.call('HGET', meta, 'limit') or '1') then
  return redis.error_reply('OVER_LIMIT more than one shopper may buy in this sale')
end
if quantity - 1 > tonumber(redis.call('HGET', meta, 'available')) then
  return redis.error_reply('NOT_ENOUGH_STOCK fewer units are left than asked for')
end
r.status = 'confirmed'
r.confirmed_at = now
r.quantity = quantity
redis.call('HSET', res, ARGV[1], cjson.encode(r))
redis.call('ZREM', holds, ARGV[1])
redis.call('HINCRBY', meta, 'held', -1)
if quantity > 1 then redis.call('HINCRBY', meta, 'available', 1 - quantity) end
redis.call('HINCRBY', meta, 'sold', quantity)
redis.call('ZADD', outbox, now, ARGV[1])
-- A hold granted before the sale ended may still be checked out, but an
-- ended sale stays ended.
if redis.call('HGET', meta, 'available') == '0' and redis.call('HGET', meta, 'held') == '0'
    and redis.call('HGET', meta, 'state') ~= 'ended' then
  redis.call('HSET', meta, 'state', 'sold_out')
  redis.call('XADD', events, 'MAXLEN', '~', ARGV[3], '*', 'type', 'state',
    'data', cjson.encode({state = 'sold_out'}))
end
r.price_cents = tonumber(redis.call('HGET', meta, 'price_cents'))
r.currency = redis.call('HGET', meta, 'currency')
return cjson.encode(r)
