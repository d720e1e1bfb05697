-- The rate limiter's one Redis round trip per call (ratelimit.py, RedisRateLimiter).
-- KEYS: the caller's revocation entries (ARGV[1] of them); then, for a counted call, the client's
-- limits (a hash: shared/policy.py) and the windows of LIMITS in order, the person's only for a
-- token that acts for one. ARGV: 1 the number of revocation entries, 2 the token's `iat` (an entry
-- voids the tokens issued before the moment it holds, or all of them when it holds 1, as entries
-- written before they carried a moment do: shared/revocation.voids); for a counted call, 3 the window
-- in ms, 4 a unique member for this call, 5-7 the deployment's client, person and tool defaults (the
-- tool's: 0 for none), 8 the tool's field in the hash, 9.. the client's record as field-value pairs,
-- or nothing. The limits are read in the same step as the count, so a changed limit holds from the
-- next call on every worker; a missing hash (Redis restarted) answers UNKNOWN_LIMITS until a caller
-- brings the record. Every window is checked before any is counted: a refusal consumes nothing.
-- Redis's own clock is used, so instances with drifting clocks still share one window.
-- Returns {status, the limit (index into LIMITS) that decided, its limit, calls left, ms to wait}.
local entries = tonumber(ARGV[1])
if entries > 0 then
  local issued_at = tonumber(ARGV[2])
  for _, valid_from in ipairs(redis.call('MGET', unpack(KEYS, 1, entries))) do
    if valid_from and (valid_from == '1' or issued_at < tonumber(valid_from)) then
      return {-1}
    end
  end
end
if #KEYS == entries then
  return {1}
end
local own_key = KEYS[entries + 1]
local own = redis.call('HMGET', own_key, 'client', 'person', ARGV[8])
if not own[1] then
  if #ARGV < 9 then
    return {-2}
  end
  redis.call('HSET', own_key, unpack(ARGV, 9))
  own = redis.call('HMGET', own_key, 'client', 'person', ARGV[8])
end
local limits = {tonumber(own[1]), tonumber(own[3] or ARGV[7]), tonumber(own[2] or 0)}
if limits[1] == 0 then
  limits[1] = tonumber(ARGV[5])
end
if limits[3] == 0 then
  limits[3] = tonumber(ARGV[6])
end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local window = tonumber(ARGV[3])
local windows = #KEYS - entries - 1
local full, wait, tightest, left = 0, -1, 1, -1
for i = 1, windows do
  local limit = limits[i]
  if limit > 0 then
    local key = KEYS[entries + 1 + i]
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    local count = redis.call('ZCARD', key)
    if count >= limit then
      local freed = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
      local room_in = tonumber(freed[2]) + window - now
      if room_in > wait then
        full, wait = i, room_in
      end
    elseif left < 0 or limit - count - 1 < left then
      tightest, left = i, limit - count - 1
    end
  end
end
if full > 0 then
  return {0, full, limits[full], 0, wait}
end
for i = 1, windows do
  if limits[i] > 0 then
    local key = KEYS[entries + 1 + i]
    redis.call('ZADD', key, now, ARGV[4])
    redis.call('PEXPIRE', key, window)
  end
end
return {1, tightest, limits[tightest], left, 0}
