-- control.lua: an operator's action on a running sale.
-- Atomically: the action is checked against the sale's state, applied, and
-- announced on the event stream, so every node hears it at once.
-- KEYS: meta, events
-- ARGV[1] action: pause, resume, stop, rate, add_stock, message or pow
-- ARGV[2] its value (rate per second, units to add, message text (empty clears it), pow difficulty; else "")
-- ARGV[3] event stream max length,
-- ARGV[4] with add_stock, the product the units are for ('' for none): an
-- event's stock is added to one of its products (PRODUCT_REQUIRED,
-- PRODUCT_UNKNOWN), and to the pool; a single-product sale takes its own
-- sku or none
-- Returns the sale's state after the action.
local meta, events = KEYS[1], KEYS[2]
local action, value, maxlen = ARGV[1], ARGV[2], ARGV[3]
local state = redis.call('HGET', meta, 'state')
if not state then return redis.error_reply('NO_SALE no such sale') end
if state == 'ended' then return redis.error_reply('SALE_ENDED the sale has ended') end
local function announce(kind, body)
  redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'type', kind, 'data', cjson.encode(body))
end
local function set_state(s)
  state = s
  redis.call('HSET', meta, 'state', s)
  announce('state', {state = s})
end
if action == 'pause' then
  if state ~= 'open' then return redis.error_reply('BAD_STATE only an open sale can be paused') end
  set_state('paused')
elseif action == 'resume' then
  if state ~= 'paused' then return redis.error_reply('BAD_STATE only a paused sale can be resumed') end
  set_state('open')
elseif action == 'stop' then
  set_state('ended')
elseif action == 'rate' then
  redis.call('HSET', meta, 'rate', value)
  announce('rate', {rate = tonumber(value)})
elseif action == 'add_stock' then
  local n = tonumber(value)
  local product = ARGV[4] or ''
  local product_left -- an event's product's left after the change
  if redis.call('HEXISTS', meta, 'products') == 1 then
    if product == '' then return redis.error_reply('PRODUCT_REQUIRED this sale holds several products: name the one to stock') end
    if redis.call('HEXISTS', meta, 'p:' .. product .. ':stock') == 0 then
      return redis.error_reply('PRODUCT_UNKNOWN this sale holds no product of that sku')
    end
    redis.call('HINCRBY', meta, 'p:' .. product .. ':stock', n)
    product_left = redis.call('HINCRBY', meta, 'p:' .. product .. ':left', n)
  elseif product ~= '' and product ~= redis.call('HGET', meta, 'sku') then
    return redis.error_reply('PRODUCT_UNKNOWN this sale holds no product of that sku')
  end
  local stock = redis.call('HINCRBY', meta, 'stock', n)
  local available = redis.call('HINCRBY', meta, 'available', n)
  -- Announced at once: shoppers hear of new stock now, not at the next
  -- once-a-second counters push; an event's, with its product's new left,
  -- so that the push does not repeat the old one.
  if product_left then
    announce('stock', {stock = stock, available = available, product = product, product_left = product_left})
  else
    announce('stock', {stock = stock, available = available})
  end
  if state == 'sold_out' then set_state('open') end
elseif action == 'pow' then
  -- Announced so that every node asks joiners for the new difficulty at
  -- once; kept, so that a node that starts following the sale later reads it.
  redis.call('HSET', meta, 'pow_difficulty', value)
  announce('pow', {pow_difficulty = tonumber(value)})
elseif action == 'message' then
  -- Kept, so that shoppers who connect later are welcomed with it; an empty
  -- text clears it, and is announced so that pages hide the old one.
  if value == '' then
    redis.call('HDEL', meta, 'message')
  else
    redis.call('HSET', meta, 'message', value)
  end
  announce('message', {message = value})
end
return state
