-- confirm.lua: turns a held reservation into a sale.
-- Atomically: only a held, unexpired reservation of this shopper is confirmed,
-- and only once; its unit moves from held to sold; it enters the sale's
-- outbox, from which it is published to the order workers until they have it,
-- so a confirmed checkout cannot be lost between Redis and the stream. When
-- that was the last unit, the sale is declared sold out. A shopper may take
-- more than its held unit, up to the sale's per-shopper limit, from the
-- units still available: all or nothing.
-- A held reservation has no record yet (admit.lua keeps a batch as one):
-- it is held while its shopper's entry in shoppers names it, and its batch
-- says when it lapses. Confirming writes its record.
-- KEYS: meta, res, batches, outbox, events, shoppers, journeys
-- ARGV[1] reservation id, ARGV[2] shopper id, ARGV[3] event stream max length,
-- ARGV[4] quantity, ARGV[5] a digest of the request's idempotency key, or ''
-- Returns the reservation as JSON with the sale's price and the quantity added.
-- A reservation confirmed already is TOKEN_REUSED, except to the request that
-- confirmed it sent again (the same non-empty key digest and quantity, its
-- stored answer lost with a client gone or a node down): that one gets the
-- reservation again, marked replayed, and nothing changes.
local meta, res, batches, outbox, events, shoppers, journeys =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local id, shopper = ARGV[1], ARGV[2]
local unknown = 'UNKNOWN_RESERVATION no such reservation for this shopper'
local raw = redis.call('HGET', res, id)
if raw then
  local r = cjson.decode(raw)
  if r.shopper ~= shopper then return redis.error_reply(unknown) end
  if r.status == 'confirmed' then
    if ARGV[5] ~= '' and r.key == ARGV[5] and r.quantity == tonumber(ARGV[4]) then
      r.replayed = true
      r.price_cents = tonumber(redis.call('HGET', meta, 'price_cents'))
      r.currency = redis.call('HGET', meta, 'currency')
      return cjson.encode(r)
    end
    return redis.error_reply('TOKEN_REUSED reservation already confirmed')
  end
  return redis.error_reply('RESERVATION_EXPIRED the hold has lapsed')
end
local nonce, ticket = parse_reservation(id)
local expires_at, admitted_at
if nonce then expires_at, admitted_at = read_batch(batches, nonce) end
if not expires_at then return redis.error_reply(unknown) end
local now = now_ms()
if redis.call('HGET', shoppers, shopper) ~= id or now >= tonumber(expires_at) then
  -- Lapsed, released, or never this shopper's: only the batch's list of
  -- who it let out tells the last apart, and only this answer reads it.
  if not was_let_out(batches, nonce, shopper, ticket) then return redis.error_reply(unknown) end
  return redis.error_reply('RESERVATION_EXPIRED the hold has lapsed')
end
local quantity = tonumber(ARGV[4])
if quantity > tonumber(redis.call('HGET', meta, 'limit') or '1') then
  return redis.error_reply('OVER_LIMIT more than one shopper may buy in this sale')
end
if quantity - 1 > tonumber(redis.call('HGET', meta, 'available')) then
  return redis.error_reply('NOT_ENOUGH_STOCK fewer units are left than asked for')
end
local r = {reservation = id, shopper = shopper, ticket = tonumber(ticket), expires_at = tonumber(expires_at),
  admitted_at = tonumber(admitted_at), txn = redis.call('HGET', journeys, shopper) or '',
  status = 'confirmed', confirmed_at = now, quantity = quantity}
if ARGV[5] ~= '' then r.key = ARGV[5] end
redis.call('HSET', res, id, cjson.encode(r))
redis.call('HINCRBY', meta, 'held', -1)
if quantity > 1 then redis.call('HINCRBY', meta, 'available', 1 - quantity) end
redis.call('HINCRBY', meta, 'sold', quantity)
redis.call('ZADD', outbox, now, id)
-- A hold granted before the sale ended may still be checked out, but an
-- ended sale stays ended (declare_sold_out's guard, lib.lua).
declare_sold_out(meta, events, ARGV[3])
r.price_cents = tonumber(redis.call('HGET', meta, 'price_cents'))
r.currency = redis.call('HGET', meta, 'currency')
return cjson.encode(r)
