--[[
  Ends one model call's hold on an endpoint: its token buckets are corrected by the difference
  between what the call really used and what it was charged (or, for a call never sent, every
  bucket gets its charge back), and its in-flight slots are freed. The bucket arithmetic is
  ratelimit/token-bucket.ts (`refill`, then `adjust`).

  Input, for B buckets and C in-flight sets of the endpoint the call went to:
    KEYS[1..B]       the buckets (HASH level, at)
    KEYS[B+1..B+C]   the in-flight sets (ZSET holder -> expiry in ms)

    ARGV[1]   holder id of the call
    ARGV[2]   B
    ARGV[3]   C
    then per bucket: refill rate per second, burst, delta (units to take more; negative gives back)
    then ARGV[4 + 3B]   a channel to announce freed slots on, or '' for none
    and  ARGV[5 + 3B]   the message (the provider's name)

  Output: the number of slots freed
]]
local holder = ARGV[1]
local B = tonumber(ARGV[2])
local C = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local arg = 4
for b = 1, B do
  local rate = tonumber(ARGV[arg])
  local burst = tonumber(ARGV[arg + 1])
  local delta = tonumber(ARGV[arg + 2])
  arg = arg + 3
  if delta ~= 0 then
    local key = KEYS[b]
    local saved = redis.call('HMGET', key, 'level', 'at')
    local level = tonumber(saved[1])
    local at = tonumber(saved[2])
    if level == nil or at == nil then
      level = burst
      at = now
    elseif now > at then
      level = math.min(burst, level + (now - at) * rate / 1000)
      at = now
    end
    level = math.min(burst, level - delta)
    redis.call('HSET', key, 'level', tostring(level), 'at', tostring(at))
    redis.call('PEXPIRE', key, math.ceil((burst - level) * 1000 / rate) + 1000)
  end
end
local channel = ARGV[arg]
local message = ARGV[arg + 1]

local freed = 0
for c = 1, C do
  freed = freed + redis.call('ZREM', KEYS[B + c], holder)
end
if freed > 0 and channel ~= '' then redis.call('PUBLISH', channel, message) end
return freed
