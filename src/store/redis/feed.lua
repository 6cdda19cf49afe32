-- Prepended to the revoking scripts, after the prelude: the revocation
-- feed, a stream on one server (a cluster has none).
--
-- Each entry's id is '<n>-0', n being its cursor: the server's clock in
-- milliseconds, or one past the last entry's n when that is later (a clock
-- that stepped back, or two revocations in one millisecond), so ids only
-- rise, and a stream made again after its key was lost starts past every
-- cursor handed out before. Each entry names the n of the one before it
-- ('p'), so that a reader sees any gap that trimming or a lost write left,
-- and the latest instant of it and every entry before it ('m', when later
-- than its own 'at'), so that a reader that finds a trimmed gap knows up
-- to when it missed revocations (the instants are the revokers' clocks,
-- not in the ids' order).

-- Whether instant `a` is later than `b`, both '<seconds>.<nanoseconds>'
-- as the store writes them (seconds rounded down): compared as two
-- numbers, as one double would lose the nanoseconds.
local function later(a, b)
  local as, an = string.match(a, '^(-?%d+)%.(%d+)$')
  local bs, bn = string.match(b, '^(-?%d+)%.(%d+)$')
  if not as then
    return false
  elseif not bs then
    return true
  end
  as, bs = tonumber(as), tonumber(bs)
  if as ~= bs then
    return as > bs
  end
  return tonumber(an) > tonumber(bn)
end

-- Appends an event at instant `at` (its other fields in `...`) to
-- `stream`, keeping the last `capacity` entries. Call it before the
-- revocation's own writes: if it fails, nothing is revoked.
local function publish(stream, capacity, at, ...)
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
  local previous = 0
  local latest = at
  if last then
    previous = tonumber(string.match(last[1], '^(%d+)%-'))
    -- The last entry's latest: its 'm', or its own 'at' without one.
    local fields, before = last[2], nil
    for i = 1, #fields - 1, 2 do
      if fields[i] == 'm' or (fields[i] == 'at' and not before) then
        before = fields[i + 1]
      end
    end
    if before and later(before, latest) then
      latest = before
    end
  end
  local id = math.max(now_millis(), previous + 1)
  local entry = {'p', string.format('%d', previous), 'at', at}
  -- Only when an earlier entry was later: instants mostly rise, and an
  -- entry with the usual fields costs the stream less.
  if latest ~= at then
    table.insert(entry, 'm')
    table.insert(entry, latest)
  end
  for _, field in ipairs({...}) do
    table.insert(entry, field)
  end
  redis.call('XADD', stream, 'MAXLEN', capacity, string.format('%d-0', id),
    unpack(entry))
end
