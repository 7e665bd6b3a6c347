--[[
  Takes one request from a user's token bucket: the bucket holds at most ARGV[2] tokens and
  refills continuously at ARGV[1] per second. Time comes from Redis itself (TIME), so every API
  process, on whatever machine, measures against one clock and the limit is the user's across
  the cluster. The key expires once the bucket would be full again, when it is equivalent to no
  key at all.

  Input:
    KEYS[1] the user's bucket (HASH tokens, at)

    ARGV[1] refill rate, tokens per second (> 0)
    ARGV[2] burst: the bucket's capacity (>= 1)
    ARGV[3] cost of this request (1)

  Output:
    {1, remaining, 0}             allowed; remaining whole tokens
    {0, remaining, retryAfterMs}  refused; enough tokens are back after retryAfterMs
]]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
-- A clock that went back (a failover to a replica behind) refills nothing rather than draining.
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  at = now
end
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = math.ceil((cost - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return {allowed, math.floor(tokens), retry}
