--[[
  Reserves capacity for one model call on the best endpoint (API key or replica) of a provider,
  or says how long until there is some. The arithmetic is ratelimit/token-bucket.ts and the
  choice ratelimit/pick-endpoint.ts, step for step. Time comes from Redis itself (TIME), so every
  worker, on whatever machine, measures against one clock.

  A granted call takes its units at once, even those not there yet: bucket levels may go below
  zero, and the call waits `waitMs` until the refill covers them. Later calls see that debt, so
  waiting calls go out in the order they reserved, each after one timer.

  Input, for E endpoints that each have B buckets and C in-flight sets (all keys of a provider
  carry its `{provider}` hash tag):
    KEYS[1]   the provider's round-robin counter (STRING)
    then for endpoint e = 1..E, 1 + B + C keys:
      its cooldown (STRING with a PX expiry, present while it cools down after a 429/529)
      B buckets (HASH level, at)
      C in-flight sets (ZSET holder -> expiry in ms; the first one counts the endpoint's load)

    ARGV[1]   longest wait to grant, ms
    ARGV[2]   holder id of this call
    ARGV[3]   how long a slot lives without renewal, ms
    ARGV[4]   E
    ARGV[5]   B
    ARGV[6]   C
    then per bucket: refill rate per second, burst, charge of this call (3 values each)
    then per in-flight set: the most calls it may hold (0: counted, not limited)

  Output:
    {1, endpoint (1-based), waitMs}   granted: send to that endpoint after waitMs
    {0, reason, retryAfterMs}         refused: 'rate_limit' or 'cooldown' with the wait, or
                                      'concurrency' (every endpoint full; no time is known) with 0
]]
local maxWait = tonumber(ARGV[1])
local holder = ARGV[2]
local slotTtl = tonumber(ARGV[3])
local E = tonumber(ARGV[4])
local B = tonumber(ARGV[5])
local C = tonumber(ARGV[6])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local specs = {}
local arg = 7
for b = 1, B do
  specs[b] = {rate = tonumber(ARGV[arg]), burst = tonumber(ARGV[arg + 1]), charge = tonumber(ARGV[arg + 2])}
  arg = arg + 3
end
local limits = {}
for c = 1, C do
  limits[c] = tonumber(ARGV[arg])
  arg = arg + 1
end

local per = 1 + B + C
local views = {}
for e = 1, E do
  local base = 1 + (e - 1) * per
  local cooling = redis.call('PTTL', KEYS[base + 1])
  if cooling < 0 then cooling = 0 end
  local wait = cooling
  local states = {}
  for b = 1, B do
    local spec = specs[b]
    local saved = redis.call('HMGET', KEYS[base + 1 + b], 'level', 'at')
    local level = tonumber(saved[1])
    local at = tonumber(saved[2])
    if level == nil or at == nil then
      level = spec.burst
      at = now
    elseif now > at then
      -- A clock that went back (a failover to a replica behind) refills nothing.
      level = math.min(spec.burst, level + (now - at) * spec.rate / 1000)
      at = now
    end
    states[b] = {level = level, at = at}
    local missing = spec.charge - level
    if missing > 0 then
      local needed = math.ceil(missing * 1000 / spec.rate)
      if needed > wait then wait = needed end
    end
  end
  local full = false
  local load = 0
  for c = 1, C do
    local key = KEYS[base + 1 + B + c]
    -- Slots of calls whose worker died lapse here.
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    local count = redis.call('ZCARD', key)
    if c == 1 then load = count end
    if limits[c] > 0 and count >= limits[c] then full = true end
  end
  views[e] = {wait = wait, cooling = cooling, load = load, full = full, states = states}
end

local start = tonumber(redis.call('GET', KEYS[1]) or '0') % E
local best = nil
for i = 0, E - 1 do
  local e = (start + i) % E + 1
  local view = views[e]
  if not view.full then
    if best == nil or view.wait < views[best].wait
      or (view.wait == views[best].wait and view.load < views[best].load) then
      best = e
    end
  end
end
if best == nil then return {0, 'concurrency', 0} end
local chosen = views[best]
if chosen.wait > maxWait then
  if chosen.cooling >= chosen.wait then return {0, 'cooldown', chosen.wait} end
  return {0, 'rate_limit', chosen.wait}
end

local base = 1 + (best - 1) * per
for b = 1, B do
  local spec = specs[b]
  local level = chosen.states[b].level - spec.charge
  local key = KEYS[base + 1 + b]
  redis.call('HSET', key, 'level', tostring(level), 'at', tostring(chosen.states[b].at))
  -- Once full again the bucket equals no key at all.
  redis.call('PEXPIRE', key, math.ceil((spec.burst - level) * 1000 / spec.rate) + 1000)
end
local lives = chosen.wait + slotTtl
for c = 1, C do
  local key = KEYS[base + 1 + B + c]
  redis.call('ZADD', key, now + lives, holder)
  if redis.call('PTTL', key) < lives + 1000 then redis.call('PEXPIRE', key, lives + 1000) end
end
redis.call('INCR', KEYS[1])
return {1, best, chosen.wait}
