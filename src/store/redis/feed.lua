-- Prepended to the revoking scripts, after the prelude: the revocation
-- feed, a stream on one server (a cluster has none).
--
-- Each entry's id is '<n>-0', n being its cursor: the server's clock in
-- milliseconds, or one past the last entry's n when that is later (a clock
-- that stepped back, or two revocations in one millisecond), so ids only
-- rise, and a stream made again after its key was lost starts past every
-- cursor handed out before. Each entry names the n of the one before it
-- ('p'), so that a reader sees any gap that trimming or a lost write left.

-- Appends an event (its fields in `...`) to `stream`, keeping the last
-- `capacity` entries. Call it before the revocation's own writes: if it
-- fails, nothing is revoked.
local function publish(stream, capacity, ...)
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
  local previous = 0
  if last then
    previous = tonumber(string.match(last[1], '^(%d+)%-'))
  end
  local id = math.max(now_millis(), previous + 1)
  redis.call('XADD', stream, 'MAXLEN', capacity, string.format('%d-0', id),
    'p', string.format('%d', previous), ...)
end
