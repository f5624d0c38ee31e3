-- leave.lua: takes a shopper out of a sale's queue.
-- Atomically: the ticket leaves the queue and, when it is above the admitted
-- mark, is recorded in gone and announced, so every node moves the shoppers
-- behind it up by one.
-- A shopper in the prequeue leaves it and the draw; once the draw has begun
-- its place stays in the draw, which records the ticket as gone.
-- KEYS: meta, queue, gone, events, pre, presort
-- ARGV[1] shopper id, ARGV[2] event stream max length
-- Returns 1 if the shopper was waiting, else 0.
local meta, queue, gone, events, pre, presort = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local p = redis.call('ZSCORE', pre, ARGV[1])
if p then
  redis.call('ZREM', pre, ARGV[1])
  if redis.call('HGET', meta, 'state') == 'prequeue' then
    local seed = redis.call('HGET', meta, 'seed_secret')
    redis.call('ZREM', presort, redis.sha1hex(seed .. ':' .. p) .. ':' .. p .. ':' .. ARGV[1])
  end
  return 1
end
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
