-- load.lua: puts a sale's plan into Redis, once.
-- Atomically: the live counters are set only when the sale is new, so loading
-- again (a restart, a second node) never resets stock that is held or sold.
-- The first state follows Redis's clock: a sale loaded inside its prequeue
-- window is in prequeue at once, with its draw's seed committed.
-- KEYS[1] meta
-- ARGV[1] a fresh seed, ARGV[2] its SHA-256 (hex), then alternating field, value of the plan
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local stock = 0
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  if ARGV[i] == 'stock' then stock = tonumber(ARGV[i + 1]) end
end
local now = now_ms()
local state = 'scheduled'
if now >= tonumber(redis.call('HGET', KEYS[1], 'starts_at_ms')) then
  state = 'open' -- nobody could have joined a prequeue: there is nothing to draw
elseif now >= tonumber(redis.call('HGET', KEYS[1], 'prequeue_at_ms')) then
  state = 'prequeue'
  redis.call('HSET', KEYS[1], 'seed_secret', ARGV[1], 'seed_hash', ARGV[2])
end
redis.call('HSET', KEYS[1], 'state', state, 'available', stock, 'held', 0, 'sold', 0,
  'mark', 0, 'seq', 0, 'preseq', 0)
return 1
