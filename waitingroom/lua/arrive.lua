-- arrive.lua: a shopper's connection opened on a node.
-- Atomically: the shopper counts as present on that node and is no longer
-- away, so the grace period that started when it left stops running.
-- KEYS: nodes, conns of this node, away
-- ARGV[1] node id, ARGV[2] shopper id
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
return 1
