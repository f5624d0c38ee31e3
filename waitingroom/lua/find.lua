-- find.lua: where a shopper already stands in a sale, creating nothing.
-- Atomically reads the reservation, the queue ticket or the prequeue ticket,
-- and computes the position as join.lua does, without a rank.
-- KEYS: meta, queue, gone, shoppers, pre
-- ARGV[1] shopper id
-- Returns {"admitted", reservation id}, {"waiting", ticket, position},
-- {"prequeue", prequeue ticket} or {} when the shopper has no place.
local meta, queue, gone, shoppers, pre = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local res = redis.call('HGET', shoppers, ARGV[1])
if res then return {'admitted', res} end
local ticket = redis.call('ZSCORE', queue, ARGV[1])
if ticket then
  ticket = tonumber(ticket)
  local mark = tonumber(redis.call('HGET', meta, 'mark'))
  return {'waiting', ticket, ticket - mark - redis.call('ZCOUNT', gone, '(' .. mark, '(' .. ticket)}
end
local p = redis.call('ZSCORE', pre, ARGV[1])
if p then return {'prequeue', tonumber(p)} end
return {}
