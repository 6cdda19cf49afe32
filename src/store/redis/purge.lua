-- Deletes a session whose idle or absolute expiry is at or before ARGV[1].
-- KEYS[1]: the session's hash.
-- Returns the subject of the session it deleted, nil if it deleted nothing.
local cur = redis.call('HMGET', KEYS[1], 'sub', 'idle', 'absolute')
if not cur[1] then
  return false
end
local idle_live = before(ARGV[1], cur[2])
local absolute_live = before(ARGV[1], cur[3])
if idle_live == nil or absolute_live == nil then
  return corrupt('bad expiry')
end
if idle_live and absolute_live then
  return false
end
redis.call('DEL', KEYS[1])
return cur[1]
