-- admit.lua: lets the head of a sale's queue out and holds one unit each.
-- Atomically: only the current admitter (fencing token) admits; at most as
-- many shoppers as there are available units; each admitted shopper leaves
-- the queue lowest ticket first and holds a reservation until the batch's
-- expiry, and the batch is announced on the event stream together with the
-- new admitted mark.
-- A batch is kept as one record, not one per shopper: each shopper's
-- reservation is reservation_id(nonce, its ticket) (lib.lua), held while shoppers[shopper] names it
-- and res has no record of it (confirm writes one), so the only write per
-- shopper is that name. The batch's holds lapse together: holds has one
-- entry per batch, and the tick releases the lot.
-- Each shopper let out adds its wait (now minus its arrival, read from the
-- arrivals marks tick.lua keeps) to the history's histogram by arrival
-- minute: one HINCRBY per minute and bucket of the batch, never a row per
-- shopper. Marks below the batch's last ticket are dropped: the queue
-- holds no lower ticket any more.
-- KEYS: meta, queue, gone, journeys, shoppers, batches, holds, events, fence, arrivals, history
-- ARGV[1] fencing token, ARGV[2] most to admit, ARGV[3] event stream max length,
-- ARGV[4] '1' to return the batch as announced, '0' for just how many,
-- ARGV[5] a fresh random nonce ([A-Z2-7]): unique across calls, sales and
-- restarts, so reservation ids never repeat
-- Returns the announced body {mark, batch, expires_at, admitted_at,
-- shoppers, tickets, txns}, or how many were admitted: the admitter's loop
-- needs no more, and the body is most of the reply.
local meta, queue, gone, journeys, shoppers, batches, holds, events, fence, arrivals, history =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
if redis.call('GET', fence) ~= ARGV[1] then return redis.error_reply('FENCED another node admits this sale') end
local none = ARGV[4] == '1' and '' or '0'
if redis.call('HGET', meta, 'state') ~= 'open' then return none end
-- Nobody is let out while the prequeue's tickets are still being handed out.
if redis.call('HEXISTS', meta, 'drawing') == 1 then return none end
-- A call the client sent again (its reply lost, say) must not admit a
-- second batch under the same nonce.
local nonce = ARGV[5]
if redis.call('HEXISTS', batches, nonce) == 1 then
  return redis.error_reply('REPEATED this admission was made already')
end
local want = tonumber(ARGV[2])
local available = tonumber(redis.call('HGET', meta, 'available'))
local n = math.min(want, available)
if n <= 0 then return none end
local popped = redis.call('ZPOPMIN', queue, n)
if #popped == 0 then return none end
local now = now_ms()
local expires = now + tonumber(redis.call('HGET', meta, 'ttl_ms'))
-- Calls go in batches of at most 500 fields: a call costs more than the
-- work of one field in it, and Lua's unpack has a limit.
local batch = 500
local function each_batch(list, width, call)
  for from = 1, #list, batch * width do
    call(unpack(list, from, math.min(from + batch * width - 1, #list)))
  end
end
local prefix = reservation_prefix(nonce)
local who, tickets, names = {}, {}, {}
for i = 1, #popped, 2 do
  local k = (i + 1) / 2
  who[k], tickets[k] = popped[i], popped[i + 1]
  names[i], names[i + 1] = popped[i], prefix .. popped[i + 1]
end
local txns = {}
for from = 1, #who, batch do
  local got = redis.call('HMGET', journeys, unpack(who, from, math.min(from + batch - 1, #who)))
  for j = 1, #got do txns[#txns + 1] = got[j] or '' end
end
each_batch(names, 2, function(...) redis.call('HSET', shoppers, ...) end)
local expires_s, now_s = string.format('%d', expires), string.format('%d', now)
write_batch(batches, nonce, expires_s, now_s, popped)
redis.call('ZADD', holds, expires, nonce)
local count = #who
local mark = string.format('%d', tonumber(tickets[count]))
redis.call('HINCRBY', meta, 'available', -count)
redis.call('HINCRBY', meta, 'held', count)
redis.call('HINCRBY', meta, 'admitted', count)
redis.call('HSET', meta, 'mark', mark)
redis.call('ZREMRANGEBYSCORE', gone, '-inf', mark)
-- waits:begin (the tick benchmark cuts this block out to weigh it)
-- A ticket arrived by the first mark at or above it; one newer than every
-- mark (joined since the last tick) arrived just now. Tickets and marks
-- both ascend, so one walk of each pairs them, and the tickets of one mark
-- share their wait: it is worked out once per mark, not per shopper.
-- Counted under a number per minute and bucket (a bucket is below 1024
-- for any wait under 2^127 ms), so a string is made per field, not per shopper.
local first = tonumber(tickets[1])
local marks = redis.call('ZRANGEBYSCORE', arrivals, first, '+inf', 'WITHSCORES', 'LIMIT', 0, tonumber(mark) - first + 2)
local upto, times = {}, {}
for j = 1, #marks, 2 do
  times[#times + 1], upto[#upto + 1] = tonumber(marks[j]), tonumber(marks[j + 1])
end
local bins, longest = {}, {}
local function add(at, n)
  if n == 0 then return end
  local wait = math.max(0, now - at)
  local minute = math.floor(at / 60000)
  local bin = minute * 1024 + wait_bucket(wait)
  bins[bin] = (bins[bin] or 0) + n
  if wait > (longest[minute] or -1) then longest[minute] = wait end
end
local m, run_at, run = 1, now, 0
for i = 1, count do
  local t = tonumber(tickets[i])
  while m <= #upto and upto[m] < t do m = m + 1 end
  local at = times[m] or now
  if at ~= run_at then
    add(run_at, run)
    run_at, run = at, 0
  end
  run = run + 1
end
add(run_at, run)
for bin, n in pairs(bins) do
  redis.call('HINCRBY', history, string.format('w:%d:%d', math.floor(bin / 1024), bin % 1024), n)
end
for minute, wait in pairs(longest) do
  local field = 'max:' .. minute
  if wait > tonumber(redis.call('HGET', history, field) or '-1') then redis.call('HSET', history, field, wait) end
end
redis.call('ZREMRANGEBYSCORE', arrivals, '-inf', '(' .. mark)
-- waits:end
-- Ids are made by Foyer from [A-Za-z0-9_-] (Rooms.Join refuses any other
-- shopper or transaction id) and tickets are integers: none needs escaping
-- in JSON, so the body is a few joins done in C, not one encoding per shopper.
local body = '{"mark":' .. mark .. ',"batch":"' .. nonce .. '","expires_at":' .. expires_s ..
  ',"admitted_at":' .. now_s .. ',"shoppers":["' .. table.concat(who, '","') ..
  '"],"tickets":[' .. table.concat(tickets, ',') .. '],"txns":["' .. table.concat(txns, '","') .. '"]}'
redis.call('XADD', events, 'MAXLEN', '~', ARGV[3], '*', 'type', 'admitted', 'data', body)
if ARGV[4] == '1' then return body end
return tostring(count)
