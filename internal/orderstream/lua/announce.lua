-- Raises the recorded partition count of the order and payment streams to
-- ARGV[1] if it is higher, and returns the count recorded after: the highest
-- any node has published with. Atomic, so two nodes announcing at once both
-- leave the higher count. A value that is not a number (set by hand) is
-- replaced.
local recorded = tonumber(redis.call('GET', KEYS[1])) or 0
local n = tonumber(ARGV[1])
if n > recorded then
  redis.call('SET', KEYS[1], n)
  return n
end
return recorded
