-- confirm.lua: turns a held reservation into a sale, for Foyer's checkout
-- and for the shop's redeem alike.
-- Atomically: only a held, unexpired reservation of this shopper is confirmed,
-- and only once; its unit moves from held to sold; it enters the sale's
-- outbox, from which it is published to the order workers until they have it,
-- so a confirmed checkout cannot be lost between Redis and the stream. When
-- that was the last unit, the sale is declared sold out. A shopper may take
-- more than its held unit, up to the sale's per-shopper limit, from the
-- units still available: all or nothing.
-- The per-customer limit is kept here too, with the hold: what the shopper
-- bought across the sale (bought: units, and orders) may not pass the sale's
-- per_customer_units (0: no bound but per_shopper_limit per order) and
-- per_customer_orders (default 1). A shopper with orders and units still to
-- go loses its shoppers entry with this order, so it may queue again.
-- A redeem (a non-empty order reference) is for a sale whose checkout is the
-- shop's only, and such a sale takes nothing else; the reference is kept in
-- the reservation.
-- A held reservation has no record yet (admit.lua keeps a batch as one):
-- it is held while its shopper's entry in shoppers names it, and its batch
-- says when it lapses. Confirming writes its record.
-- An event (a sale with products, docs/products.md) sells the product the
-- checkout names, ARGV[7]: one of the event's (PRODUCT_REQUIRED,
-- PRODUCT_UNKNOWN), with quantity units left (PRODUCT_SOLD_OUT: the shopper
-- may choose another while its hold lasts), and no more than the product's
-- per-shopper limit counting what this shopper bought of it
-- (OVER_PRODUCT_LIMIT). The held unit was of the event: the product's left
-- falls by quantity, held by one and available by quantity - 1, so
-- available = sum of left - held stays true. The reservation keeps the
-- product and its price for the order. A single-product sale takes its own
-- sku or none, as before, and refuses any other (PRODUCT_UNKNOWN).
-- KEYS: meta, res, batches, outbox, events, shoppers, journeys, bought, customers
-- ARGV[1] reservation id, ARGV[2] shopper id, ARGV[3] event stream max length,
-- ARGV[4] quantity, ARGV[5] a digest of the request's idempotency key, or '',
-- ARGV[6] the shop's order reference of a redeem, or '' for Foyer's checkout,
-- ARGV[7] the product's sku, or ''
-- Returns the reservation as JSON with the price (the product's, in an
-- event) and the quantity added.
-- A reservation confirmed already is TOKEN_REUSED, except to the request that
-- confirmed it sent again (the same non-empty key digest, quantity and order
-- reference, its stored answer lost with a client gone or a node down): that
-- one gets the reservation again, marked replayed, and nothing changes.
local meta, res, batches, outbox, events, shoppers, journeys, bought, customers =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local id, shopper, order_ref, product = ARGV[1], ARGV[2], ARGV[6], ARGV[7] or ''
-- The sale's price, or the product's that the reservation kept.
local function priced(r)
  r.price_cents = r.price_cents or tonumber(redis.call('HGET', meta, 'price_cents'))
  r.currency = redis.call('HGET', meta, 'currency')
  return cjson.encode(r)
end
local unknown = UNKNOWN_RESERVATION
local shop_checkout = redis.call('HGET', meta, 'checkout') == 'shop'
if order_ref ~= '' and not shop_checkout then
  return redis.error_reply('CHECKOUT_NOT_SHOP this sale is checked out by Foyer, not redeemed by the shop')
end
-- And the other way round: a shop sale's token rides in the shopper's
-- checkout URL, so Foyer's checkout taking it would let a shopper skip the
-- shop's payment.
if order_ref == '' and shop_checkout then
  return redis.error_reply('CHECKOUT_IS_SHOP this sale is checked out by the shop, which redeems its tokens')
end
local raw = redis.call('HGET', res, id)
if raw then
  local r = cjson.decode(raw)
  if r.shopper ~= shopper then return redis.error_reply(unknown) end
  if r.status == 'confirmed' then
    if ARGV[5] ~= '' and r.key == ARGV[5] and r.quantity == tonumber(ARGV[4]) and (r.order_ref or '') == order_ref
        and (not r.sku or r.sku == product) then
      r.replayed = true
      return priced(r)
    end
    return redis.error_reply('TOKEN_REUSED reservation already confirmed')
  end
  return redis.error_reply('RESERVATION_EXPIRED the hold has lapsed')
end
local h, refusal = held(batches, shoppers, id, shopper)
if not h then return refusal end
local now = h.now
local quantity = tonumber(ARGV[4])
-- One read for both: a single-product sale pays nothing for products.
local plan = redis.call('HMGET', meta, 'limit', 'products')
if quantity > tonumber(plan[1] or '1') then
  return redis.error_reply('OVER_LIMIT more than one shopper may buy in this sale')
end
-- The product, checked before anything changes.
local is_event = plan[2] ~= false
local left_f, product_price
if is_event then
  if product == '' then
    return redis.error_reply('PRODUCT_REQUIRED this sale holds several products: the checkout must name one')
  end
  left_f = 'p:' .. product .. ':left'
  local f = redis.call('HMGET', meta, left_f, 'p:' .. product .. ':price')
  if not f[1] then return redis.error_reply('PRODUCT_UNKNOWN this sale holds no product of that sku') end
  product_price = tonumber(f[2])
elseif product ~= '' and product ~= redis.call('HGET', meta, 'sku') then
  return redis.error_reply('PRODUCT_UNKNOWN this sale holds no product of that sku')
end
local orders_key = shopper .. ':orders'
local units_cap = tonumber(redis.call('HGET', meta, 'per_customer_units') or '0')
local orders_cap = tonumber(redis.call('HGET', meta, 'per_customer_orders') or '1')
local units_had = tonumber(redis.call('HGET', bought, shopper) or '0')
local orders_had = tonumber(redis.call('HGET', bought, orders_key) or '0')
if orders_had >= orders_cap or (units_cap > 0 and units_had >= units_cap) then
  return redis.error_reply('CUSTOMER_LIMIT this customer has bought all this sale allows one customer')
end
if units_cap > 0 and units_had + quantity > units_cap then
  return redis.error_reply('OVER_CUSTOMER_LIMIT only ' .. (units_cap - units_had) ..
    ' more units may go to this customer in this sale')
end
if quantity - 1 > tonumber(redis.call('HGET', meta, 'available')) then
  return redis.error_reply('NOT_ENOUGH_STOCK fewer units are left than asked for')
end
local product_key
if is_event then
  local left = tonumber(redis.call('HGET', meta, left_f))
  if left < quantity then
    return redis.error_reply('PRODUCT_SOLD_OUT only ' .. left .. ' units of this product are left: choose another')
  end
  product_key = shopper .. ':p:' .. product
  local cap = tonumber(redis.call('HGET', meta, 'p:' .. product .. ':limit'))
  local had = tonumber(redis.call('HGET', bought, product_key) or '0')
  if had + quantity > cap then
    return redis.error_reply('OVER_PRODUCT_LIMIT only ' .. math.max(cap - had, 0) ..
      ' more units of this product may go to this shopper')
  end
end
local r = {reservation = id, shopper = shopper, ticket = h.ticket, expires_at = h.expires_at,
  admitted_at = h.admitted_at, txn = redis.call('HGET', journeys, shopper) or '',
  status = 'confirmed', confirmed_at = now, quantity = quantity, counted = true}
if ARGV[5] ~= '' then r.key = ARGV[5] end
if is_event then r.sku, r.price_cents = product, product_price end
if order_ref ~= '' then r.order_ref = order_ref end
local customer = redis.call('HGET', customers, shopper)
if customer then r.customer = customer end
redis.call('HSET', res, id, cjson.encode(r))
redis.call('HINCRBY', meta, 'held', -1)
if quantity > 1 then redis.call('HINCRBY', meta, 'available', 1 - quantity) end
redis.call('HINCRBY', meta, 'sold', quantity)
redis.call('HINCRBY', bought, shopper, quantity)
redis.call('HINCRBY', bought, orders_key, 1)
if is_event then
  redis.call('HINCRBY', meta, left_f, -quantity)
  redis.call('HINCRBY', meta, 'p:' .. product .. ':sold', quantity)
  redis.call('HINCRBY', bought, product_key, quantity)
end
-- Today's rule, one order per shopper, keeps the entry: a join gives the
-- shopper its confirmed reservation back instead of a place. With orders
-- and units to go, the entry goes, and the next join is a new place.
if orders_had + 1 < orders_cap and (units_cap == 0 or units_had + quantity < units_cap) then
  redis.call('HDEL', shoppers, shopper)
end
redis.call('ZADD', outbox, now, id)
-- A hold granted before the sale ended may still be checked out, but an
-- ended sale stays ended (declare_sold_out's guard, lib.lua).
declare_sold_out(meta, events, ARGV[3])
return priced(r)
