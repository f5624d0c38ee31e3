-- lib.lua: what every sale script shares, spelled once. Scripts cannot
-- import each other, so scripts.go puts this file before each script's own
-- source (the same text in every build, so each script's SHA stays stable).
-- It only defines locals: nothing here touches Redis until a script calls it.

-- now_ms is Redis's clock in unix milliseconds: every script reads time from
-- the server, never from the caller, so nodes with skewed clocks agree.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A reservation is named r_<admission nonce>_<its shopper's ticket>
-- (admit.lua holds a batch as one record, not one per shopper). Go spells the
-- same in reservation.go: ReservationID and ParseReservationID.
local function reservation_prefix(nonce) return 'r_' .. nonce .. '_' end
local function reservation_id(nonce, ticket) return reservation_prefix(nonce) .. ticket end
-- parse_reservation returns the nonce and the ticket (a string of digits),
-- or nil for an id no admission made.
local function parse_reservation(id) return string.match(id, '^r_(.+)_(%d+)$') end

-- A batch is kept in the batches hash as two fields: <nonce> ->
-- "expires_ms admitted_ms", and <nonce>:who -> "shopper ticket shopper
-- ticket ...", who it let out, in ticket order.
local function write_batch(batches, nonce, expires_s, admitted_s, who)
  redis.call('HSET', batches, nonce, expires_s .. ' ' .. admitted_s, nonce .. ':who', table.concat(who, ' '))
end
-- read_batch returns the batch's expiry and admission time (strings of
-- digits), or nil when no such batch is kept.
local function read_batch(batches, nonce)
  local batch = redis.call('HGET', batches, nonce)
  if not batch then return nil end
  return string.match(batch, '^(%d+) (%d+)$')
end
-- let_out iterates the shoppers the batch let out: for shopper, ticket in ...
local function let_out(batches, nonce)
  return string.gmatch(redis.call('HGET', batches, nonce .. ':who') or '', '(%S+) (%S+)')
end
-- was_let_out reports whether the batch let this shopper out with this ticket.
local function was_let_out(batches, nonce, shopper, ticket)
  local who = ' ' .. (redis.call('HGET', batches, nonce .. ':who') or '') .. ' '
  return string.find(who, ' ' .. shopper .. ' ' .. ticket .. ' ', 1, true) ~= nil
end

-- UNKNOWN_RESERVATION answers a reservation no admission made for this
-- shopper: made up, mangled, or another shopper's.
local UNKNOWN_RESERVATION = 'UNKNOWN_RESERVATION no such reservation for this shopper'

-- held reads a reservation that has no record yet (confirm, release and
-- refund write one): it is held while its shopper's entry in shoppers names
-- it and its batch has not lapsed. It returns {ticket, expires_at,
-- admitted_at, now} (numbers) when shopper holds it now, else nil and the
-- error to answer: unknown, or expired (lapsed, released, or let go).
local function held(batches, shoppers, id, shopper)
  local nonce, ticket = parse_reservation(id)
  local expires_at, admitted_at
  if nonce then expires_at, admitted_at = read_batch(batches, nonce) end
  if not expires_at then return nil, redis.error_reply(UNKNOWN_RESERVATION) end
  local now = now_ms()
  if redis.call('HGET', shoppers, shopper) ~= id or now >= tonumber(expires_at) then
    -- Lapsed, released, or never this shopper's: only the batch's list of
    -- who it let out tells the last apart, and only this answer reads it.
    if not was_let_out(batches, nonce, shopper, ticket) then return nil, redis.error_reply(UNKNOWN_RESERVATION) end
    return nil, redis.error_reply('RESERVATION_EXPIRED the hold has lapsed')
  end
  return {ticket = tonumber(ticket), expires_at = tonumber(expires_at), admitted_at = tonumber(admitted_at), now = now}
end

-- declare_sold_out ends the selling of a sale with no unit left, neither
-- available nor held, and announces it; it returns true if it did. An ended
-- sale stays ended (a hold granted before the end may still be checked out),
-- and one sold out already is not announced twice.
local function declare_sold_out(meta, events, maxlen)
  if redis.call('HGET', meta, 'available') ~= '0' or redis.call('HGET', meta, 'held') ~= '0' then return false end
  local state = redis.call('HGET', meta, 'state')
  if state == 'ended' or state == 'sold_out' then return false end
  redis.call('HSET', meta, 'state', 'sold_out')
  redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'type', 'state',
    'data', cjson.encode({state = 'sold_out'}))
  return true
end

-- The script's own source follows.

-- wait_bucket is the bucket of the wait histogram (admit.lua) a wait of ms
-- milliseconds falls in: 0 below 1 ms, else 1 + floor(8 * log2(ms)), eight
-- buckets per doubling, so a bucket's bounds are 2^(1/8) (9 %) apart. Go
-- spells the same in waits.go (WaitBucket, WaitBucketBounds).
local function wait_bucket(ms)
  if ms < 1 then return 0 end
  return 1 + math.floor(8 * math.log(ms) / math.log(2))
end
