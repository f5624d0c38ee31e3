-- arrive.lua: a shopper's connection opened on a node (or, after the node was
-- taken for dead, the node says again which shoppers it holds).
-- Atomically: each shopper counts as present on that node, counted once per
-- node in present, and is no longer away, so the grace period that started
-- when it left stops running.
-- KEYS: nodes, conns of this node, away, present, and optionally the sale's
-- meta: given, nothing is recorded unless the sale is there
-- ARGV[1] node id, ARGV[2..] shopper ids
if KEYS[5] and redis.call('EXISTS', KEYS[5]) == 0 then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
for i = 2, #ARGV do
  if redis.call('SADD', KEYS[2], ARGV[i]) == 1 then redis.call('HINCRBY', KEYS[4], ARGV[i], 1) end
  redis.call('ZREM', KEYS[3], ARGV[i])
end
return #ARGV - 1
