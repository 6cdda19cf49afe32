-- The compare-and-swap of a refresh: applies the rotation only if the
-- session is at the expected generation with the expected secret hash, is
-- not revoked, and both its expiries are after the rotation instant.
-- KEYS[1]: the session's hash.
-- ARGV: 1 expected generation, 2 expected secret hash, 3 rotation instant,
-- 4 retention in ms, 5 new generation, 6 new secret hash, 7 new idle expiry,
-- 8 previous generation, 9 its secret hash, 10 its rotation instant,
-- 11 wrapped secret, 12 new claims, 13 the client seen (JSON), 14 a new
-- authentication context (JSON); 12 to 14 empty: keep the stored value.
-- Returns the updated record as HGETALL does, or nil if the compare failed.
local cur = redis.call('HMGET', KEYS[1], 'gen', 'hash', 'rreason', 'idle', 'absolute')
if cur[1] ~= ARGV[1] or cur[2] ~= ARGV[2] or cur[3] then
  return false
end
local idle_live = before(ARGV[3], cur[4])
local absolute_live = before(ARGV[3], cur[5])
if idle_live == nil or absolute_live == nil then
  return corrupt('bad expiry')
end
if not (idle_live and absolute_live) then
  return false
end
redis.call('HSET', KEYS[1],
  'gen', ARGV[5], 'hash', ARGV[6], 'refreshed', ARGV[3], 'idle', ARGV[7],
  'pgen', ARGV[8], 'phash', ARGV[9], 'prot', ARGV[10], 'pwrap', ARGV[11])
if ARGV[12] ~= '' then
  redis.call('HSET', KEYS[1], 'claims', ARGV[12])
end
if ARGV[13] ~= '' then
  redis.call('HSET', KEYS[1], 'seen', ARGV[13])
end
if ARGV[14] ~= '' then
  redis.call('HSET', KEYS[1], 'auth', ARGV[14])
end
keep(KEYS[1], ARGV[7], cur[5], ARGV[4])
return redis.call('HGETALL', KEYS[1])
