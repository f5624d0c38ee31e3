-- flag.lua: records signals of automation against shoppers, and applies the
-- sale's policy for flagged shoppers (meta field flagged_policy).
-- Atomically: a shopper's record is merged, never overwritten (signals are
-- added to those seen before; the first address and time stay), and the
-- policy is applied to the shopper in the same step, so no admission or
-- join can slip between the flag and its effect.
-- Policies: allow (the default) only records. back re-tickets a flagged
-- shopper waiting in the queue behind everyone: its old ticket is gone (and
-- announced, so those behind it move up), it takes the next ticket of the
-- sale's counter, and a requeued event tells every node. remove takes a
-- flagged shopper out of the queue or the prequeue as leave.lua does, and a
-- removed event tells every node; join.lua then refuses it. Neither touches a
-- shopper holding a reservation, nor (back) a shopper in the prequeue: the
-- draw is committed by its seed and must stay checkable.
-- A record applies the policy only when it adds a signal, so a flagged
-- shopper is sent back once per new signal, not at every join of a tab.
-- KEYS: meta, queue, gone, events, pre, presort, flags
-- ARGV[1] mode: record or policy, ARGV[2] event stream max length
-- record: ARGV[3] shopper id, ARGV[4] signals (JSON array), ARGV[5] address
--   Returns {outcome, ticket, position, policy}: outcome none, requeued
--   (ticket and position are the new ones) or removed.
-- policy: ARGV[3] the new policy, applied to every flagged shopper at once
--   (an admin action: O(flagged shoppers)).
--   Returns {requeued, removed}: how many shoppers each happened to.
local meta, queue, gone, events, pre, presort, flags =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local mode, maxlen = ARGV[1], ARGV[2]
local state = redis.call('HGET', meta, 'state')
if not state then return redis.error_reply('NO_SALE no such sale') end

local function announce(kind, body)
  redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'type', kind, 'data', cjson.encode(body))
end

-- out takes a ticket out of the queue's count: above the mark it is gone,
-- and announced, so every node moves those behind it up by one.
local function out(ticket)
  local mark = tonumber(redis.call('HGET', meta, 'mark') or '0')
  if ticket > mark then
    redis.call('ZADD', gone, ticket, ticket)
    announce('gone', {ticket = ticket})
  end
end

-- apply puts one flagged shopper under the policy. Returns the outcome and,
-- for requeued, the new ticket.
local function apply(shopper, policy)
  if policy == 'back' then
    local t = redis.call('ZSCORE', queue, shopper)
    if not t then return 'none', 0 end
    t = tonumber(t)
    -- The last ticket handed out is behind everyone already.
    if t == tonumber(redis.call('HGET', meta, 'seq') or '0') then return 'none', t end
    out(t)
    local nt = redis.call('HINCRBY', meta, 'seq', 1)
    redis.call('ZADD', queue, nt, shopper)
    announce('requeued', {shopper = shopper, ticket = nt})
    return 'requeued', nt
  elseif policy == 'remove' then
    local p = redis.call('ZSCORE', pre, shopper)
    if p then
      redis.call('ZREM', pre, shopper)
      -- Once the draw has begun the place stays in it, and the draw records
      -- its ticket as gone (tick.lua).
      if state == 'prequeue' then
        local seed = redis.call('HGET', meta, 'seed_secret')
        redis.call('ZREM', presort, redis.sha1hex(seed .. ':' .. p) .. ':' .. p .. ':' .. shopper)
      end
      announce('removed', {shopper = shopper})
      return 'removed', 0
    end
    local t = redis.call('ZSCORE', queue, shopper)
    if not t then return 'none', 0 end
    redis.call('ZREM', queue, shopper)
    out(tonumber(t))
    announce('removed', {shopper = shopper})
    return 'removed', 0
  end
  return 'none', 0
end

local policy = redis.call('HGET', meta, 'flagged_policy') or 'allow'

if mode == 'record' then
  local shopper, signals, addr = ARGV[3], cjson.decode(ARGV[4]), ARGV[5]
  local raw = redis.call('HGET', flags, shopper)
  local rec, added = nil, false
  if raw then
    rec = cjson.decode(raw)
  else
    rec = {signals = {}, ip = addr, first_at_ms = now_ms()}
  end
  for _, s in ipairs(signals) do
    local seen = false
    for _, have in ipairs(rec.signals) do
      if have == s then seen = true end
    end
    if not seen then
      rec.signals[#rec.signals + 1] = s
      added = true
    end
  end
  if not added then return {'none', 0, 0, policy} end
  redis.call('HSET', flags, shopper, cjson.encode(rec))
  local outcome, ticket = apply(shopper, policy)
  if outcome ~= 'requeued' then return {outcome, 0, 0, policy} end
  local mark = tonumber(redis.call('HGET', meta, 'mark') or '0')
  local left = redis.call('ZCOUNT', gone, '(' .. mark, '(' .. ticket)
  return {outcome, ticket, ticket - mark - left, policy}
end

if mode == 'policy' then
  policy = ARGV[3]
  redis.call('HSET', meta, 'flagged_policy', policy)
  local requeued, removed = 0, 0
  if policy == 'back' then
    -- In ticket order, so flagged shoppers keep their order among themselves.
    local waiting = {}
    for _, shopper in ipairs(redis.call('HKEYS', flags)) do
      local t = redis.call('ZSCORE', queue, shopper)
      if t then waiting[#waiting + 1] = {shopper, tonumber(t)} end
    end
    table.sort(waiting, function(a, b) return a[2] < b[2] end)
    for _, w in ipairs(waiting) do
      if apply(w[1], policy) == 'requeued' then requeued = requeued + 1 end
    end
  elseif policy == 'remove' then
    for _, shopper in ipairs(redis.call('HKEYS', flags)) do
      if apply(shopper, policy) == 'removed' then removed = removed + 1 end
    end
  end
  return {requeued, removed}
end

return redis.error_reply('BAD_MODE flag.lua: unknown mode ' .. tostring(mode))
