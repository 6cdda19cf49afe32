-- Inserts a session unless its id is taken.
-- KEYS[1]: the session's hash.
-- ARGV[1]: retention in ms; ARGV[2..]: field, value, field, value... of
-- the record (with 'idle' and 'absolute').
-- Returns 1 if it created the session, 0 if the id was taken.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
local expiry = redis.call('HMGET', KEYS[1], 'idle', 'absolute')
keep(KEYS[1], expiry[1], expiry[2], ARGV[1])
return 1
