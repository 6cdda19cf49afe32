-- Revokes one session, keeping the first revocation, and publishes it on
-- the feed in the same step.
-- KEYS[1]: the session's hash; KEYS[2]: the feed's stream, if the store
-- has a feed (one server).
-- ARGV[1]: the reason; ARGV[2]: the instant; with a feed, ARGV[3]: its
-- capacity, ARGV[4]: the session id.
-- Returns 1 if it revoked the session, 0 if missing or already revoked.
local cur = redis.call('HMGET', KEYS[1], 'sub', 'rreason')
if not cur[1] or cur[2] then
  return 0
end
if KEYS[2] then
  publish(KEYS[2], ARGV[3], ARGV[2], 't', 's', 'id', ARGV[4])
end
redis.call('HSET', KEYS[1], 'rreason', ARGV[1], 'rat', ARGV[2])
return 1
