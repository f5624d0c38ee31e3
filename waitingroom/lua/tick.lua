-- tick.lua: the admitter's housekeeping for one sale, by Redis's clock.
-- Atomically: opens the prequeue (committing to the draw's seed by its hash);
-- at starts_at opens the sale, reveals the seed and reserves tickets 1..P for
-- the P prequeue shoppers, then hands them out in draw order, a chunk per
-- tick, so a large prequeue never blocks Redis for long; ends it at ends_at; releases
-- holds past their expiry back to available; takes shoppers who have been
-- away longer than the grace period out of the queue (those behind move up)
-- and releases their holds (not in a sale the shop checks out: its admitted
-- shoppers are away at the shop's page on purpose); declares the sale sold out when every unit is
-- sold. Each change is announced on the event stream.
-- Shows the operator's scheduled messages whose time has come (schedule.lua).
-- While open, it marks the ticket counter in arrivals when it has moved
-- since the last mark, so admit.lua can tell when each ticket arrived (to a
-- tick), and it counts the holds it releases in history (lapsed or away).
-- KEYS: meta, shoppers, res, holds, events, fence, queue, gone, away, pre, draw, presort, batches, scheduled,
-- arrivals, history
-- ARGV[1] fencing token, ARGV[2] event stream max length,
-- ARGV[3] most held or away shoppers to walk, ARGV[4] grace period ms,
-- ARGV[5] a fresh seed, ARGV[6] its SHA-256 (hex): used if the prequeue opens now,
-- ARGV[7] most prequeue shoppers to hand tickets to in this tick
-- Returns {state after the tick, outflow rate, holds released this tick,
-- shoppers it could admit now (the fewer of those waiting and the units
-- available)} (the last two left out when the sale is over or ends now).
local meta, shoppers, res, holds, events, fence, queue, gone, away, pre, draw, presort, batches, scheduled =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[13],
  KEYS[14]
local arrivals, history = KEYS[15], KEYS[16]
if redis.call('GET', fence) ~= ARGV[1] then return redis.error_reply('FENCED another node admits this sale') end
local maxlen, most, grace = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
local state = redis.call('HGET', meta, 'state')
local rate = redis.call('HGET', meta, 'rate')
local function announce(kind, body)
  redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'type', kind, 'data', cjson.encode(body))
end
local function set_state(s, extra)
  state = s
  redis.call('HSET', meta, 'state', s)
  local body = extra or {}
  body.state = s
  announce('state', body)
end

-- A scheduled message whose time has come becomes the sale's message, as an
-- operator's message sent then would (control.lua); several due at once are
-- shown in their order, the last one staying. Not once the sale has ended.
if state ~= 'ended' then
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', scheduled, '-inf', now, 'LIMIT', 0, 20)) do
    local text = string.match(member, '^%S+ (.*)$') or ''
    redis.call('HSET', meta, 'message', text)
    announce('message', {message = text})
    redis.call('ZREM', scheduled, member)
  end
end

-- drawChunk hands the next prequeue shoppers, in draw order, the tickets
-- reserved for them: presort is already sorted by SHA-1(seed ":" ticket),
-- an order nobody could know before the seed was revealed and anyone can
-- check after (docs/fairness.md). A shopper who left meanwhile still takes
-- its ticket, recorded as gone, so tickets stay consecutive.
local function drawChunk(most)
  local members = redis.call('ZRANGE', presort, 0, most - 1)
  if #members == 0 then return end
  local drawn = tonumber(redis.call('HGET', meta, 'drawn') or '0')
  local order, args = {}, {}
  for i, member in ipairs(members) do
    local p, shopper = string.match(member, '^%x+:(%d+):(.*)$')
    local ticket = drawn + i
    order[#order + 1] = p
    if redis.call('ZREM', pre, shopper) == 1 then
      args[#args + 1] = ticket
      args[#args + 1] = shopper
    else
      redis.call('ZADD', gone, ticket, ticket)
      announce('gone', {ticket = ticket})
    end
    if #args >= 2000 then
      redis.call('ZADD', queue, unpack(args))
      args = {}
    end
  end
  if #args > 0 then redis.call('ZADD', queue, unpack(args)) end
  redis.call('ZREMRANGEBYRANK', presort, 0, #members - 1)
  redis.call('HSET', meta, 'drawn', drawn + #members)
  redis.call('APPEND', draw, (drawn > 0 and ' ' or '') .. table.concat(order, ' '))
  if redis.call('ZCARD', presort) == 0 then
    redis.call('HDEL', meta, 'drawing')
    announce('drawn', {drawn = drawn + #members})
  end
end

-- unprequeue takes an away shopper out of the prequeue, and out of the draw
-- if it has not begun.
local function unprequeue(shopper)
  local p = redis.call('ZSCORE', pre, shopper)
  if not p then return end
  redis.call('ZREM', pre, shopper)
  if state == 'prequeue' then
    local seed = redis.call('HGET', meta, 'seed_secret')
    redis.call('ZREM', presort, redis.sha1hex(seed .. ':' .. p) .. ':' .. p .. ':' .. shopper)
  end
end
if state == 'ended' or state == 'sold_out' then return {state, rate} end
if now >= tonumber(redis.call('HGET', meta, 'ends_at_ms')) then
  set_state('ended')
  return {state, rate}
end
if state == 'scheduled' and now >= tonumber(redis.call('HGET', meta, 'prequeue_at_ms')) then
  redis.call('HSET', meta, 'seed_secret', ARGV[5], 'seed_hash', ARGV[6])
  set_state('prequeue', {seed_hash = ARGV[6]})
end
if state == 'prequeue' and now >= tonumber(redis.call('HGET', meta, 'starts_at_ms')) then
  local seed = redis.call('HGET', meta, 'seed_secret')
  local count = redis.call('ZCARD', presort)
  redis.call('HSET', meta, 'seed', seed, 'seq', count, 'drawn', 0)
  if count > 0 then redis.call('HSET', meta, 'drawing', 1) end
  set_state('open', {seed = seed, drawing = count})
  if count == 0 then announce('drawn', {drawn = 0}) end
end
if redis.call('HEXISTS', meta, 'drawing') == 1 then drawChunk(tonumber(ARGV[7])) end
-- arrivals:begin (the tick benchmark cuts this block out to weigh it)
-- A mark per tick that saw new tickets: the prequeue's all arrive at the
-- opening, each later one by the tick after its join.
if state == 'open' then
  local seq = tonumber(redis.call('HGET', meta, 'seq') or '0')
  local top = redis.call('ZRANGE', arrivals, -1, -1, 'WITHSCORES')
  if seq > 0 and seq > (tonumber(top[2]) or 0) then redis.call('ZADD', arrivals, seq, now) end
end
-- arrivals:end

-- release gives a held reservation's unit back to the sale. A reservation is
-- held while its shopper's entry in shoppers names it and res has no record
-- of it (confirm and refund write one): taking the name away releases it,
-- and lets the shopper join again.
local released, freed, lapsed = {}, 0, 0
local function release(shopper, id)
  redis.call('HDEL', shoppers, shopper)
  freed = freed + 1
  released[#released + 1] = {shopper = shopper, reservation = id}
end
-- Holds lapse a batch at a time (admit.lua): the batch's shoppers are read
-- from its record, and those still holding its reservations are released.
-- A batch is at most one admission, so a tick walks at most most shoppers
-- and one batch more.
local walked = 0
for _, nonce in ipairs(redis.call('ZRANGEBYSCORE', holds, '-inf', now, 'LIMIT', 0, most)) do
  if walked >= most then break end
  local names, ids = {}, {}
  for shopper, ticket in let_out(batches, nonce) do
    names[#names + 1], ids[#ids + 1] = shopper, reservation_id(nonce, ticket)
  end
  for from = 1, #names, 500 do
    local to = math.min(from + 499, #names)
    local named = redis.call('HMGET', shoppers, unpack(names, from, to))
    local recorded = redis.call('HMGET', res, unpack(ids, from, to))
    for j = 1, #named do
      local i = from + j - 1
      if named[j] == ids[i] and not recorded[j] then
        release(names[i], ids[i])
        lapsed = lapsed + 1
      end
    end
  end
  walked = walked + #names
  redis.call('ZREM', holds, nonce)
end
local mark = tonumber(redis.call('HGET', meta, 'mark'))
-- A shopper of a sale the shop checks out leaves Foyer's page for the
-- shop's on purpose once admitted: the shop may be taking the money, so its
-- hold is kept until it lapses (above), or the shop redeems or releases it.
local keep_holds = redis.call('HGET', meta, 'checkout') == 'shop'
for _, shopper in ipairs(redis.call('ZRANGEBYSCORE', away, '-inf', now - grace, 'LIMIT', 0, most)) do
  redis.call('ZREM', away, shopper)
  unprequeue(shopper)
  local ticket = redis.call('ZSCORE', queue, shopper)
  if ticket then
    redis.call('ZREM', queue, shopper)
    if tonumber(ticket) > mark then
      redis.call('ZADD', gone, ticket, ticket)
      announce('gone', {ticket = tonumber(ticket)})
    end
  end
  local id = not keep_holds and redis.call('HGET', shoppers, shopper)
  if id and redis.call('HEXISTS', res, id) == 0 then release(shopper, id) end
end
if freed > 0 then
  redis.call('HINCRBY', meta, 'available', freed)
  redis.call('HINCRBY', meta, 'held', -freed)
  if lapsed > 0 then redis.call('HINCRBY', history, 'lapsed', lapsed) end
  if freed > lapsed then redis.call('HINCRBY', history, 'away', freed - lapsed) end
end
if #released > 0 then announce('expired', {released = released}) end
if declare_sold_out(meta, events, maxlen) then state = 'sold_out' end
-- How many the admitter could let out now: none leaves an idle sale's
-- admitter without the admission's round trip.
local admissible = 0
if state == 'open' then
  admissible = math.min(redis.call('ZCARD', queue), tonumber(redis.call('HGET', meta, 'available')) or 0)
end
return {state, rate, tostring(freed), tostring(admissible)}
