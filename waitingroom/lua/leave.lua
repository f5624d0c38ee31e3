-- leave.lua: takes a shopper out of a sale's queue.
-- Atomically: the ticket leaves the queue and, when it is above the admitted
-- mark, is recorded in gone and announced, so every node moves the shoppers
-- behind it up by one.
-- A shopper in the prequeue simply leaves it: it holds no ticket yet.
-- KEYS: meta, queue, gone, events, pre
-- ARGV[1] shopper id, ARGV[2] event stream max length
-- Returns 1 if the shopper was waiting, else 0.
local meta, queue, gone, events, pre = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if redis.call('ZREM', pre, ARGV[1]) == 1 then return 1 end
local ticket = redis.call('ZSCORE', queue, ARGV[1])
if not ticket then return 0 end
redis.call('ZREM', queue, ARGV[1])
local mark = tonumber(redis.call('HGET', meta, 'mark') or '0')
if tonumber(ticket) > mark then
  redis.call('ZADD', gone, ticket, ticket)
  redis.call('XADD', events, 'MAXLEN', '~', ARGV[2], '*', 'type', 'gone',
    'data', cjson.encode({ticket = tonumber(ticket)}))
end
return 1
