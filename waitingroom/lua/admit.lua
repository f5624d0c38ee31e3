-- admit.lua: lets the head of a sale's queue out and holds one unit each.
-- Atomically: only the current admitter (fencing token) admits; at most as
-- many shoppers as there are available units; each admitted shopper leaves
-- the queue lowest ticket first, gets a reservation that expires, and is
-- announced on the event stream together with the new admitted mark.
-- KEYS: meta, queue, gone, journeys, shoppers, res, holds, events, fence
-- ARGV[1] fencing token, ARGV[2] most to admit, ARGV[3] event stream max length,
-- ARGV[4] '1' to return the reservations, '0' for just how many,
-- ARGV[5] a fresh random nonce: the k-th reservation of this call is
-- r_<nonce>_<k>, as unique across calls, sales and restarts as the nonce
-- Returns a JSON array of {shopper, reservation, ticket, expires_at, txn}, or
-- its length: the admitter's loop needs no more, and the array is most of
-- the reply.
-- Each reservation is encoded once, and the same text is stored, announced
-- and returned: JSON encoding is most of this script's cost.
local meta, queue, gone, journeys, shoppers, res, holds, events, fence =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
if redis.call('GET', fence) ~= ARGV[1] then return redis.error_reply('FENCED another node admits this sale') end
local none = ARGV[4] == '1' and '[]' or '0'
if redis.call('HGET', meta, 'state') ~= 'open' then return none end
-- Nobody is let out while the prequeue's tickets are still being handed out.
if redis.call('HEXISTS', meta, 'drawing') == 1 then return none end
-- A call the client sent again (its reply lost, say) must not admit a
-- second batch under the same ids, overwriting the first batch's holds.
local prefix = 'r_' .. ARGV[5] .. '_'
if redis.call('HEXISTS', res, prefix .. '1') == 1 then
  return redis.error_reply('REPEATED this admission was made already')
end
local want = tonumber(ARGV[2])
local available = tonumber(redis.call('HGET', meta, 'available'))
local n = math.min(want, available)
if n <= 0 then return none end
local popped = redis.call('ZPOPMIN', queue, n)
if #popped == 0 then return none end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expires = now + tonumber(redis.call('HGET', meta, 'ttl_ms'))
-- Writes go in batches, one call per key for the lot: a call costs more
-- than the work of one field in it.
local batch = 500
local function each_batch(list, width, call)
  for from = 1, #list, batch * width do
    call(unpack(list, from, math.min(from + batch * width - 1, #list)))
  end
end
-- Ids are made by Foyer from [A-Za-z0-9_-] (Rooms.Join refuses any other
-- shopper or transaction id; reservation ids are built here from the
-- admitter's nonce) and tickets are integers: none needs escaping in JSON,
-- so each reservation is one concatenation of pieces shared by the batch. Checking them here, even
-- with one pattern over the batch, cost more than all the rest.
local who, tickets, ids = {}, {}, {}
for i = 1, #popped, 2 do
  local k = (i + 1) / 2
  who[k], tickets[k], ids[k] = popped[i], popped[i + 1], prefix .. k
end
local txns = {}
for from = 1, #who, batch do
  local got = redis.call('HMGET', journeys, unpack(who, from, math.min(from + batch - 1, #who)))
  for j = 1, #got do txns[#txns + 1] = got[j] or '' end
end
local expires_s, now_s = string.format('%d', expires), string.format('%d', now)
local mid = ',"expires_at":' .. expires_s .. ',"txn":"'
local tail = '","status":"held","admitted_at":' .. now_s .. '}'
local admitted, res_fields, shopper_fields, hold_members = {}, {}, {}, {}
for k = 1, #who do
  local shopper, id, ticket, txn = who[k], ids[k], tickets[k], txns[k]
  local r = '{"shopper":"' .. shopper .. '","reservation":"' .. id .. '","ticket":' .. ticket .. mid .. txn .. tail
  local f = 2 * k
  res_fields[f - 1], res_fields[f] = id, r
  shopper_fields[f - 1], shopper_fields[f] = shopper, id
  hold_members[f - 1], hold_members[f] = expires_s, id
  admitted[k] = r
end
local mark = tonumber(tickets[#tickets])
each_batch(res_fields, 2, function(...) redis.call('HSET', res, ...) end)
each_batch(shopper_fields, 2, function(...) redis.call('HSET', shoppers, ...) end)
each_batch(hold_members, 2, function(...) redis.call('ZADD', holds, ...) end)
local count = #admitted
redis.call('HINCRBY', meta, 'available', -count)
redis.call('HINCRBY', meta, 'held', count)
redis.call('HSET', meta, 'mark', mark)
redis.call('ZREMRANGEBYSCORE', gone, '-inf', mark)
local list = '[' .. table.concat(admitted, ',') .. ']'
local body = '{"mark":' .. string.format('%d', mark) .. ',"admitted":' .. list .. '}'
redis.call('XADD', events, 'MAXLEN', '~', ARGV[3], '*', 'type', 'admitted', 'data', body)
if ARGV[4] == '1' then return list end
return tostring(count)
