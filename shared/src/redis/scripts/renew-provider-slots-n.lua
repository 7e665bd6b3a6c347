--[[
  Keeps a running model call's in-flight slots alive: a slot not renewed within its lifetime
  lapses, which is how the slots of a worker that died are freed.

  Input:
    KEYS[1..C]   the in-flight sets of the call's endpoint (ZSET holder -> expiry in ms)

    ARGV[1]   holder id of the call
    ARGV[2]   lifetime from now, ms

  Output: the number of slots still held (fewer than C: a slot had already lapsed)
]]
local holder = ARGV[1]
local lives = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local held = 0
for c = 1, #KEYS do
  if redis.call('ZSCORE', KEYS[c], holder) then
    redis.call('ZADD', KEYS[c], now + lives, holder)
    if redis.call('PTTL', KEYS[c]) < lives + 1000 then redis.call('PEXPIRE', KEYS[c], lives + 1000) end
    held = held + 1
  end
end
return held
