-- refund.lua: gives the units of a cancelled order back to the sale.
-- Atomically and once per reservation: the units move from sold to
-- available, the shopper may join again, what it bought no longer counts
-- against its per-customer limit, and a sale that had sold out opens again
-- (announced), so the next shoppers are admitted.
-- Only the shoppers entry that names this reservation goes: a shopper that
-- may buy more than once can hold a newer reservation by now, and that hold
-- is not this refund's to end. Only a reservation that confirm.lua counted
-- (counted) is taken off the counts, so one confirmed before the counts
-- existed cannot drive them below zero.
-- An event's order (one whose reservation names its product, r.sku) gives
-- its units back to its product too, and to what its shopper may still buy
-- of it; the pool's identity available = sum of left - held stays true.
-- KEYS: meta, res, shoppers, events, bought
-- ARGV[1] reservation id, ARGV[2] quantity, ARGV[3] event stream max length
-- Returns 1 if the units went back, 0 if they already had.
local meta, res, shoppers, events, bought = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local raw = redis.call('HGET', res, ARGV[1])
if not raw then return 0 end
local r = cjson.decode(raw)
if r.status ~= 'confirmed' then return 0 end
r.status = 'cancelled'
redis.call('HSET', res, ARGV[1], cjson.encode(r))
if redis.call('HGET', shoppers, r.shopper) == ARGV[1] then redis.call('HDEL', shoppers, r.shopper) end
local q = tonumber(ARGV[2])
if r.counted then
  redis.call('HINCRBY', bought, r.shopper, -(r.quantity or q))
  redis.call('HINCRBY', bought, r.shopper .. ':orders', -1)
  if r.sku then redis.call('HINCRBY', bought, r.shopper .. ':p:' .. r.sku, -(r.quantity or q)) end
end
if r.sku then
  redis.call('HINCRBY', meta, 'p:' .. r.sku .. ':left', q)
  redis.call('HINCRBY', meta, 'p:' .. r.sku .. ':sold', -q)
end
redis.call('HINCRBY', meta, 'sold', -q)
redis.call('HINCRBY', meta, 'available', q)
if redis.call('HGET', meta, 'state') == 'sold_out' then
  redis.call('HSET', meta, 'state', 'open')
  redis.call('XADD', events, 'MAXLEN', '~', ARGV[3], '*', 'type', 'state',
    'data', cjson.encode({state = 'open'}))
end
return 1
