-- swapset.lua: puts a new content of one of a sale's sets (its invitees, its
-- groups) in force in one step, so that a join sees the old set or the new
-- one, never a mix, and keeps the old one aside so that it can be put back.
-- Atomically: with ARGV[1] "members", the set staged at KEYS[2] becomes the
-- live set KEYS[1] (refused, changing nothing, when the staged set is gone);
-- with "empty", the live set goes (Redis keeps no empty set). Either way the
-- old live set, if there was one, moves to KEYS[3], which expires after
-- ARGV[2] ms; the new live set never expires (a staged set does).
-- Putting the old set back is the same swap, from KEYS[3].
-- KEYS: live, incoming, outgoing
-- ARGV[1] "members" or "empty", ARGV[2] time to live of the outgoing set (ms)
-- Returns 1 when an old live set moved to KEYS[3], 0 when there was none.
local live, incoming, outgoing = KEYS[1], KEYS[2], KEYS[3]
if ARGV[1] == 'members' and redis.call('EXISTS', incoming) == 0 then
  return redis.error_reply('STAGE_LOST the staged set is gone')
end
local had = 0
if redis.call('EXISTS', live) == 1 then
  redis.call('RENAME', live, outgoing)
  redis.call('PEXPIRE', outgoing, ARGV[2])
  had = 1
end
if ARGV[1] == 'members' then
  redis.call('RENAME', incoming, live)
  redis.call('PERSIST', live)
end
return had
