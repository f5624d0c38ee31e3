-- admit.lua: lets the head of a sale's queue out and holds one unit each.
-- Atomically: only the current admitter (fencing token) admits; at most as
-- many shoppers as there are available units; each admitted shopper leaves
-- the queue lowest ticket first, gets a reservation that expires, and is
-- announced on the event stream together with the new admitted mark.
-- KEYS: meta, queue, gone, journeys, shoppers, res, holds, events, fence
-- ARGV[1] fencing token, ARGV[2] most to admit, ARGV[3] event stream max length,
-- ARGV[4..] fresh reservation ids (at least ARGV[2] of them)
-- Returns a JSON array of {shopper, reservation, ticket, expires_at, txn}.
local meta, queue, gone, journeys, shoppers, res, holds, events, fence =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
if redis.call('GET', fence) ~= ARGV[1] then return redis.error_reply('FENCED another node admits this sale') end
if redis.call('HGET', meta, 'state') ~= 'open' then return '[]' end
-- Nobody is let out while the prequeue's tickets are still being handed out.
if redis.call('HEXISTS', meta, 'drawing') == 1 then return '[]' end
local want = math.min(tonumber(ARGV[2]), #ARGV - 3)
local available = tonumber(redis.call('HGET', meta, 'available'))
local n = math.min(want, available)
if n <= 0 then return '[]' end
local popped = redis.call('ZPOPMIN', queue, n)
if #popped == 0 then return '[]' end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expires = now + tonumber(redis.call('HGET', meta, 'ttl_ms'))
local admitted = {}
local mark = 0
for i = 1, #popped, 2 do
  local shopper, ticket = popped[i], tonumber(popped[i + 1])
  local id = ARGV[3 + (i + 1) / 2]
  local txn = redis.call('HGET', journeys, shopper) or ''
  local r = {shopper = shopper, reservation = id, ticket = ticket, expires_at = expires,
    txn = txn, status = 'held', admitted_at = now}
  redis.call('HSET', res, id, cjson.encode(r))
  redis.call('HSET', shoppers, shopper, id)
  redis.call('ZADD', holds, expires, id)
  admitted[#admitted + 1] = r
  mark = ticket
end
local count = #admitted
redis.call('HINCRBY', meta, 'available', -count)
redis.call('HINCRBY', meta, 'held', count)
redis.call('HSET', meta, 'mark', mark)
redis.call('ZREMRANGEBYSCORE', gone, '-inf', mark)
local body = cjson.encode({mark = mark, admitted = admitted})
redis.call('XADD', events, 'MAXLEN', '~', ARGV[3], '*', 'type', 'admitted', 'data', body)
return cjson.encode(admitted)
