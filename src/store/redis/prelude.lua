-- Shared by every RedisStore script: prepended to each before it is loaded.
--
-- Instants are text: '<unix seconds, rounded down>.<nine digits of
-- nanoseconds>'. They are compared as two numbers, because a Lua number (a
-- double) holds the seconds or the nanoseconds exactly, but not the
-- nanoseconds since 1970.

-- The seconds and nanoseconds of an instant; nil if `text` is not one.
local function instant(text)
  if type(text) ~= 'string' then
    return nil
  end
  local s, n = string.match(text, '^(%-?%d+)%.(%d%d%d%d%d%d%d%d%d)$')
  if not s then
    return nil
  end
  return tonumber(s), tonumber(n)
end

-- Whether instant `a` is strictly before instant `b`; nil if either is not
-- an instant.
local function before(a, b)
  local as, an = instant(a)
  local bs, bn = instant(b)
  if not as or not bs then
    return nil
  end
  return as < bs or (as == bs and an < bn)
end

-- An instant in whole milliseconds since 1970, rounded down.
local function millis(text)
  local s, n = instant(text)
  return s * 1000 + math.floor(n / 1000000)
end

-- The server's clock in milliseconds since 1970.
local function now_millis()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- An error the store reports as a corrupt record, not as a failed call.
local function corrupt(what)
  return redis.error_reply('CORRUPT session record: ' .. what)
end

-- Lets the session's key expire `retention` ms after the later of the
-- session's expiry (the earlier of `idle` and `absolute`) and now: an old
-- generation presented until then is still recognised as reuse.
local function keep(key, idle, absolute, retention)
  local expires = idle
  if before(absolute, idle) then
    expires = absolute
  end
  local deadline = math.max(millis(expires), now_millis()) + tonumber(retention)
  -- '%d', because a number given to redis.call may be sent as 1.7e+12.
  redis.call('PEXPIREAT', key, string.format('%d', deadline))
end
