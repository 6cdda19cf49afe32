-- Revokes one session of a subject, for revoke_subject, which calls it for
-- each id in the subject's index. The index may name a session of another
-- subject (a create that found the id taken), so the subject is checked.
-- KEYS[1]: the session's hash.
-- ARGV[1]: the subject; ARGV[2]: the reason; ARGV[3]: the instant.
-- Returns 1 if it revoked the session; 0 if already revoked or another
-- subject's (its index entry may go); -1 if missing (the entry stays: the
-- session's create may be under way).
local cur = redis.call('HMGET', KEYS[1], 'sub', 'rreason')
if not cur[1] then
  return -1
end
if cur[1] ~= ARGV[1] or cur[2] then
  return 0
end
redis.call('HSET', KEYS[1], 'rreason', ARGV[2], 'rat', ARGV[3])
return 1
