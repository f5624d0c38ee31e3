-- edit.lua: an operator's change to the plan of a sale that has not opened.
-- Atomically: the sale's state is checked and the plan's fields changed, and
-- the new plan announced on the event stream, in one step, so that an edit
-- racing the admitter's tick that opens the sale (tick.lua, same slot) lands
-- wholly before the opening or is refused wholly after it.
-- Allowed while the sale is scheduled, or in prequeue as long as the change
-- keeps the prequeue open by now (a prequeue that has opened cannot close
-- again: shoppers hold tickets in it). Stock can change because nothing is
-- held or sold before the opening; available follows it.
-- KEYS: meta, events
-- ARGV[1] event stream max length, then alternating field, value of the
-- meta fields to set (name, sku, price_cents, list_price_cents, currency, stock, starts_at_ms,
-- ends_at_ms, prequeue_at_ms, rate, ttl_ms, limit, per_customer_units,
-- per_customer_orders, and an event's products: "products", its SKUs as a
-- JSON array or '' for a single-product sale, and p:<sku>:<figure> of each;
-- the products the sale had go first, whole)
-- Returns the sale's state (unchanged by the edit).
local meta, events = KEYS[1], KEYS[2]
local state = redis.call('HGET', meta, 'state')
if not state then return redis.error_reply('NO_SALE no such sale') end
if state ~= 'scheduled' and state ~= 'prequeue' then
  return redis.error_reply('SALE_OPENED the sale has opened: its plan can no longer change')
end
local fields = {}
for i = 2, #ARGV, 2 do fields[ARGV[i]] = ARGV[i + 1] end
if state == 'prequeue' and fields.prequeue_at_ms and tonumber(fields.prequeue_at_ms) > now_ms() then
  return redis.error_reply('BAD_STATE the prequeue has opened: it cannot open later than now')
end
if fields.stock then
  local committed = tonumber(redis.call('HGET', meta, 'held') or '0') + tonumber(redis.call('HGET', meta, 'sold') or '0')
  if tonumber(fields.stock) < committed then
    return redis.error_reply('BAD_STATE stock cannot go below the units held or sold')
  end
  fields.available = tostring(tonumber(fields.stock) - committed)
end
if fields.products then
  local old = redis.call('HGET', meta, 'products')
  if old then
    for _, sku in ipairs(cjson.decode(old)) do
      for _, figure in ipairs({'stock', 'left', 'sold', 'price', 'limit'}) do
        redis.call('HDEL', meta, 'p:' .. sku .. ':' .. figure)
      end
    end
  end
  redis.call('HDEL', meta, 'products', 'product_info')
  if fields.products == '' then fields.products = nil end
end
for field, value in pairs(fields) do redis.call('HSET', meta, field, value) end
-- An event's products go along as a page shows them (product_info, as the
-- edit just wrote it), with each one's stock and left, so that an open page
-- replaces its list; nil, so absent, for a single-product sale.
local products
local skus = redis.call('HGET', meta, 'products')
if skus then
  products = cjson.decode(redis.call('HGET', meta, 'product_info'))
  for i, sku in ipairs(cjson.decode(skus)) do
    local f = redis.call('HMGET', meta, 'p:' .. sku .. ':stock', 'p:' .. sku .. ':left')
    products[i].stock, products[i].left = tonumber(f[1]), tonumber(f[2])
  end
end
local p = redis.call('HMGET', meta, 'name', 'price_cents', 'currency', 'starts_at_ms', 'ends_at_ms', 'prequeue_at_ms',
  'stock', 'available', 'rate', 'limit', 'message', 'list_price_cents')
redis.call('XADD', events, 'MAXLEN', '~', ARGV[1], '*', 'type', 'plan', 'data', cjson.encode({plan = {
  name = p[1], price_cents = tonumber(p[2]), list_price_cents = tonumber(p[12] or '0'), currency = p[3], starts_at_ms = tonumber(p[4]),
  ends_at_ms = tonumber(p[5]), prequeue_at_ms = tonumber(p[6]), stock = tonumber(p[7]),
  available = tonumber(p[8]), rate = tonumber(p[9]), per_shopper_limit = tonumber(p[10]),
  -- The message shown goes along: a page may take a state push that
  -- carries no message for one that cleared it.
  message = p[11] or '', products = products}}))
return state
