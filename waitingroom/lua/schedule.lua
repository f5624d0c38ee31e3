-- schedule.lua: adds or cancels an operator's scheduled message.
-- Atomically: the count is bounded and the sale must not have ended; the
-- admitter's tick (tick.lua) shows each message when its time comes.
-- Members of the scheduled set are "<id> <text>", scored by when (unix ms).
-- KEYS: meta, scheduled
-- ARGV[1] add or cancel, ARGV[2] the message's id, ARGV[3] when (unix ms),
-- ARGV[4] the text, ARGV[5] most messages a sale may have scheduled
-- Returns 1, or for a cancel 0 when no message had that id.
local meta, scheduled = KEYS[1], KEYS[2]
local action, id = ARGV[1], ARGV[2]
local state = redis.call('HGET', meta, 'state')
if not state then return redis.error_reply('NO_SALE no such sale') end
if action == 'cancel' then
  for _, member in ipairs(redis.call('ZRANGE', scheduled, 0, -1)) do
    if string.sub(member, 1, #id + 1) == id .. ' ' then
      redis.call('ZREM', scheduled, member)
      return 1
    end
  end
  return 0
end
if state == 'ended' then return redis.error_reply('SALE_ENDED the sale has ended') end
if redis.call('ZCARD', scheduled) >= tonumber(ARGV[5]) then
  return redis.error_reply('TOO_MANY a sale may have at most ' .. ARGV[5] .. ' scheduled messages')
end
redis.call('ZADD', scheduled, ARGV[3], id .. ' ' .. ARGV[4])
return 1
