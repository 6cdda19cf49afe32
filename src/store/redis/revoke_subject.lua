-- Revokes sessions of a subject, for revoke_subject, which reads their ids
-- from the subject's index: all of them in one call on one server, where
-- the call also publishes the subject's revocation on the feed (so both
-- happen or neither); one call per session on a cluster, which has no feed.
-- The index may name a session of another subject (a create that found
-- the id taken), so the subject is checked.
-- KEYS: the sessions' hashes, then the feed's stream if ARGV[4] is set.
-- ARGV[1]: the subject; ARGV[2]: the reason; ARGV[3]: the instant;
-- ARGV[4]: the feed's capacity, '' without a feed; ARGV[5]: the id of the
-- session spared, '' if none.
-- Returns, per session: 1 if it revoked it; 0 if already revoked or
-- another subject's (its index entry may go); -1 if missing (the entry
-- stays: the session's create may be under way).
local sessions = #KEYS
if ARGV[4] ~= '' then
  sessions = sessions - 1
end
-- Every read before any write: a key that is no hash fails the call with
-- nothing changed.
local current = {}
for i = 1, sessions do
  current[i] = redis.call('HMGET', KEYS[i], 'sub', 'rreason')
end
if ARGV[4] ~= '' then
  -- Even when no session is live: a purged session's access tokens may
  -- still be out there.
  local event = {'t', 'u', 'sub', ARGV[1]}
  if ARGV[5] ~= '' then
    table.insert(event, 'ex')
    table.insert(event, ARGV[5])
  end
  publish(KEYS[#KEYS], ARGV[4], ARGV[3], unpack(event))
end
local replies = {}
for i = 1, sessions do
  local cur = current[i]
  if not cur[1] then
    replies[i] = -1
  elseif cur[1] ~= ARGV[1] or cur[2] then
    replies[i] = 0
  else
    redis.call('HSET', KEYS[i], 'rreason', ARGV[2], 'rat', ARGV[3])
    replies[i] = 1
  end
end
return replies
