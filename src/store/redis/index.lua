-- Adds a session to its subject's index: a sorted set of session ids, each
-- scored with the millisecond by which its session's key is gone for sure.
-- Drops the entries past that, and lets the index expire with its last one.
-- KEYS[1]: the subject's index.
-- ARGV[1]: the session id; ARGV[2]: its absolute expiry; ARGV[3]: retention
-- in ms.
-- A session's key lives at most `retention` past the later of its absolute
-- expiry and its last write; twice that allows for a rotation written on a
-- server whose clock runs ahead of the application's.
local now = now_millis()
local gone_by = math.max(millis(ARGV[2]), now) + 2 * tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], string.format('%d', gone_by), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%d', now))
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], string.format('%d', tonumber(last[2])))
return 1
