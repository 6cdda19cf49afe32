-- Revokes one session, keeping the first revocation.
-- KEYS[1]: the session's hash.
-- ARGV[1]: the reason; ARGV[2]: the instant.
-- Returns 1 if it revoked the session, 0 if missing or already revoked.
local cur = redis.call('HMGET', KEYS[1], 'sub', 'rreason')
if not cur[1] or cur[2] then
  return 0
end
redis.call('HSET', KEYS[1], 'rreason', ARGV[1], 'rat', ARGV[2])
return 1
