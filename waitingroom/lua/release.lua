-- release.lua: gives a held unit back at once, when the shop says its
-- customer will not buy it (POST /v1/reservations/{id}/release).
-- Atomically: only a held, unexpired reservation of this shopper is
-- released; its unit moves from held to available; its shoppers entry goes,
-- so the shopper may join the queue again (as after a hold that lapsed); a
-- sale that had sold out opens again (announced, as refund.lua does); and
-- the release is announced on the event stream as the tick announces lapsed
-- holds ("expired"), so the shopper's page and the sale's stock follow.
-- The reservation gets a record, status released: the tick, the reconciler
-- and confirm.lua all take a reservation with a record for one no longer
-- held, and releasing it again is answered from it.
-- KEYS: meta, res, batches, shoppers, events
-- ARGV[1] reservation id, ARGV[2] shopper id, ARGV[3] event stream max length
-- Returns 1 when released now, 0 when it had been released already.
local meta, res, batches, shoppers, events = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, shopper = ARGV[1], ARGV[2]
local unknown = UNKNOWN_RESERVATION
-- Only the shop's checkout hands holds back: in a sale Foyer checks out,
-- a shop key has no say over a shopper's hold.
if redis.call('HGET', meta, 'checkout') ~= 'shop' then
  return redis.error_reply('CHECKOUT_NOT_SHOP this sale is checked out by Foyer, not by the shop')
end
local raw = redis.call('HGET', res, id)
if raw then
  local r = cjson.decode(raw)
  if r.shopper ~= shopper then return redis.error_reply(unknown) end
  if r.status == 'released' then return 0 end
  if r.status == 'confirmed' then return redis.error_reply('TOKEN_REUSED reservation already confirmed') end
  return redis.error_reply('RESERVATION_EXPIRED the hold has lapsed')
end
local h, refusal = held(batches, shoppers, id, shopper)
if not h then return refusal end
local now, ticket = h.now, h.ticket
redis.call('HSET', res, id, cjson.encode({reservation = id, shopper = shopper, ticket = ticket,
  status = 'released', released_at = now}))
redis.call('HDEL', shoppers, shopper)
redis.call('HINCRBY', meta, 'held', -1)
redis.call('HINCRBY', meta, 'available', 1)
if redis.call('HGET', meta, 'state') == 'sold_out' then
  redis.call('HSET', meta, 'state', 'open')
  redis.call('XADD', events, 'MAXLEN', '~', ARGV[3], '*', 'type', 'state',
    'data', cjson.encode({state = 'open'}))
end
redis.call('XADD', events, 'MAXLEN', '~', ARGV[3], '*', 'type', 'expired',
  'data', cjson.encode({released = {{shopper = shopper, reservation = id}}, reason = 'released'}))
return 1
