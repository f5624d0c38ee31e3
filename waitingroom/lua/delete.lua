-- delete.lua: takes a sale that has not opened out of Redis.
-- Atomically: the state is checked (scheduled or prequeue: nothing was
-- admitted, held or sold), the sale's end is announced to the shoppers
-- following it (a state "ended" with deleted set, so that pages waiting in
-- its prequeue say so), and every key of the sale is removed but the event
-- stream, which is kept for an hour so that every node reads the news.
-- KEYS[1] meta, KEYS[2] events, KEYS[3...] the sale's other keys
-- ARGV[1] event stream max length, ARGV[2] how long the stream is kept, ms
-- Returns the state the sale was in.
local meta, events = KEYS[1], KEYS[2]
local state = redis.call('HGET', meta, 'state')
if not state then return redis.error_reply('NO_SALE no such sale') end
if state ~= 'scheduled' and state ~= 'prequeue' then
  return redis.error_reply('SALE_OPENED the sale has opened: it can no longer be deleted')
end
redis.call('XADD', events, 'MAXLEN', '~', ARGV[1], '*', 'type', 'state',
  'data', cjson.encode({state = 'ended', deleted = true}))
redis.call('DEL', meta, unpack(KEYS, 3))
redis.call('PEXPIRE', events, ARGV[2])
return state
