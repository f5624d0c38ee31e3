-- join.lua: gives a shopper one place in a sale's queue.
-- Atomically: a shopper already waiting keeps the place it has, and a shopper
-- holding a reservation gets that back instead of a second place. In the
-- prequeue a new place is the next prequeue ticket, to be drawn at the start;
-- once open it is the next ticket of the sale's counter, so arrival order is
-- Redis's.
-- A prequeue joiner's place in the draw is fixed as it joins, by a hash of
-- the secret seed and its prequeue ticket, so the draw at the start only
-- hands out tickets in an order already sorted.
-- A shopper flagged as automated is refused while the sale's operator removes
-- flagged shoppers (flagged_policy remove); one holding a reservation still
-- gets it back: removal takes shoppers out of the queue, not their holds.
-- A sale whose identity is required refuses an anonymous shopper before
-- anything is written: customers' shopper ids start with c_, which only a
-- session made from the shop's identity token carries (internal/identity).
-- A sale whose eligibility is invited refuses, before anything is written,
-- a new joiner it neither lists (invited: customers' shopper ids) nor admits
-- by one of its session's groups (groups), and who brings no unused invite
-- code (invites: digest -> "" or "<shopper>:<ms>", who used it and when). A
-- code is spent by the join that uses it, in this script: two shoppers racing
-- with one code, one gets in. Its spender may bring it again. A shopper
-- waiting or holding keeps its place: it passed when it joined. A spent
-- code's digest goes into spent too, which the gateways empty into Postgres
-- every second or so (RecordInviteSpends): Postgres learns of a spend
-- without being on the join's path.
-- A customer's join (a session made from the shop's identity token) records
-- the shop's customer id in customers, for its orders (confirm.lua copies it
-- into the reservation), with the place it gets or keeps, in this script: a
-- refused join records nothing, and no second round trip can fail apart.
-- KEYS: meta, queue, journeys, shoppers, pre, presort, gone, flags, invited, groups, invites, spent, customers
-- ARGV[1] shopper id, ARGV[2] transaction id to use if this is the shopper's first join,
-- ARGV[3] the shop's customer id of the session, or "", ARGV[4] the SHA-256 (hex) of the invite
-- code the shopper brings, or "", ARGV[5..] its session's groups
-- Returns {"waiting", ticket, position, txn}, {"prequeue", prequeue ticket, 0, txn}
-- or {"admitted", reservation id, 0, txn}: txn is the journey's transaction id.
local meta, queue, journeys, shoppers, pre, presort, gone, flags =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local invited, groups, invites, spent, customers = KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[13]
local shopper = ARGV[1]
-- placed records the customer of a join that gets or keeps a place (or its
-- hold) and returns the answer.
local customer = ARGV[3] or ''
local function placed(answer)
  if customer ~= '' then redis.call('HSET', customers, shopper, customer) end
  return answer
end
local state = redis.call('HGET', meta, 'state')
if not state then return redis.error_reply('NO_SALE no such sale') end
if redis.call('HGET', meta, 'identity') == 'required' and string.sub(shopper, 1, 2) ~= 'c_' then
  return redis.error_reply('IDENTITY_REQUIRED this sale admits only the shop\'s signed-in customers')
end
local res = redis.call('HGET', shoppers, shopper)
local txn = redis.call('HGET', journeys, shopper) or ARGV[2]
if res then return placed({'admitted', res, 0, txn}) end
if redis.call('HGET', meta, 'flagged_policy') == 'remove' and redis.call('HEXISTS', flags, shopper) == 1 then
  return redis.error_reply('FLAGGED this sale removes shoppers that look automated')
end
if state == 'ended' then return redis.error_reply('SALE_ENDED the sale has ended') end
if state == 'sold_out' then return redis.error_reply('SOLD_OUT the sale is sold out') end
if state == 'scheduled' then return redis.error_reply('TOO_EARLY the prequeue has not opened yet') end
if redis.call('HGET', meta, 'eligibility') == 'invited' and not redis.call('ZSCORE', queue, shopper)
    and not redis.call('ZSCORE', pre, shopper) and redis.call('SISMEMBER', invited, shopper) == 0 then
  local member = false
  for i = 5, #ARGV do
    if redis.call('SISMEMBER', groups, ARGV[i]) == 1 then member = true break end
  end
  if not member then
    local code = ARGV[4] or ''
    local used = code ~= '' and redis.call('HGET', invites, code)
    if used == '' then
      redis.call('HSET', invites, code, shopper .. ':' .. now_ms()) -- spent: nothing below refuses
      redis.call('SADD', spent, code)
    elseif used and string.sub(used, 1, #shopper + 1) ~= shopper .. ':' then
      return redis.error_reply('INVITE_USED this invite code was used already')
    elseif not used then
      return redis.error_reply('NOT_ELIGIBLE this sale admits only the customers it invited')
    end
  end
end
if state == 'prequeue' then
  local p = redis.call('ZSCORE', pre, shopper)
  if not p then
    p = redis.call('HINCRBY', meta, 'preseq', 1)
    redis.call('ZADD', pre, p, shopper)
    local seed = redis.call('HGET', meta, 'seed_secret')
    redis.call('ZADD', presort, 0, redis.sha1hex(seed .. ':' .. p) .. ':' .. p .. ':' .. shopper)
    redis.call('HSETNX', journeys, shopper, ARGV[2])
  end
  return placed({'prequeue', tonumber(p), 0, txn})
end
local ticket = redis.call('ZSCORE', queue, shopper)
if not ticket then
  ticket = redis.call('HINCRBY', meta, 'seq', 1)
  redis.call('ZADD', queue, ticket, shopper)
  redis.call('HSETNX', journeys, shopper, ARGV[2])
end
-- Every ticket below this one is waiting, admitted (at or below the mark),
-- or gone: the position follows without a rank, and stays exact while a
-- draw is still handing out the tickets below.
ticket = tonumber(ticket)
local mark = tonumber(redis.call('HGET', meta, 'mark'))
local left = redis.call('ZCOUNT', gone, '(' .. mark, '(' .. ticket)
return placed({'waiting', ticket, ticket - mark - left, txn})
