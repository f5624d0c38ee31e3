-- load.lua: puts a sale's plan into Redis, once.
-- Atomically: the live counters are set only when the sale is new, so loading
-- again (a restart, a second node) never resets stock that is held or sold.
-- KEYS[1] meta
-- ARGV: alternating field, value of the plan; the last pair is ("stock", n)
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local stock = 0
for i = 1, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  if ARGV[i] == 'stock' then stock = tonumber(ARGV[i + 1]) end
end
redis.call('HSET', KEYS[1], 'state', 'scheduled', 'available', stock, 'held', 0, 'sold', 0,
  'mark', 0, 'seq', 0)
return 1
