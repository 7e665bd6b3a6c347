--[[
  Delivers a message to the turn that is running now, at its next step boundary ("steering").
  When no turn is running, the caller appends it as an ordinary input instead.

  Input:
    KEYS[1] session meta hash
    KEYS[2] steering list

    ARGV[1] message JSON

  Output:
    -1  the session does not exist
     0  no turn is running: not steered
     n  steered; n is the input seq of the running turn
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
local inputSeq = tonumber(redis.call('HGET', KEYS[1], 'inputSeq') or '0')
local done = tonumber(redis.call('HGET', KEYS[1], 'doneInputSeq') or '0')
if inputSeq <= done then
  return 0
end
redis.call('RPUSH', KEYS[2], ARGV[1])
return done + 1
