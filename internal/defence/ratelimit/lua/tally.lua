-- tally.lua: counts one more event for a key in a fixed window.
-- Atomically: the counter is raised and, when this is the window's first
-- event, given the window as its expiry, so no counter is ever left without one.
-- KEYS[1] the counter
-- ARGV[1] the window in milliseconds
-- Returns the count in the window so far, this event included.
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
