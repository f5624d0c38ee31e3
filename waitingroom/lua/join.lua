-- join.lua: gives a shopper one place in a sale's queue.
-- Atomically: a shopper already waiting keeps the ticket it has, and a shopper
-- holding a reservation gets that back instead of a second place; a new place
-- is the next ticket of the sale's counter, so arrival order is Redis's.
-- KEYS: meta, queue, journeys, shoppers
-- ARGV[1] shopper id, ARGV[2] transaction id to use if this is the shopper's first join
-- Returns {"waiting", ticket, rank} or {"admitted", reservation id, 0}
local meta, queue, journeys, shoppers = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local shopper = ARGV[1]
local state = redis.call('HGET', meta, 'state')
if not state then return redis.error_reply('NO_SALE no such sale') end
local res = redis.call('HGET', shoppers, shopper)
if res then return {'admitted', res, 0} end
if state == 'ended' then return redis.error_reply('SALE_ENDED the sale has ended') end
if state == 'sold_out' then return redis.error_reply('SOLD_OUT the sale is sold out') end
local ticket = redis.call('ZSCORE', queue, shopper)
if not ticket then
  ticket = redis.call('HINCRBY', meta, 'seq', 1)
  redis.call('ZADD', queue, ticket, shopper)
  redis.call('HSETNX', journeys, shopper, ARGV[2])
end
return {'waiting', tonumber(ticket), redis.call('ZRANK', queue, shopper) + 1}
