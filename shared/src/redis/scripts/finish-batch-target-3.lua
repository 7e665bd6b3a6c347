--[[
  Records a target attempt's terminal state and adds what it spent to the batch's totals, once:
  the per-attempt marker makes a retried dispatcher job that finishes the same attempt again a
  no-op, so the totals never count an attempt twice. An attempt a retry has replaced changes
  nothing either.

  Input:
    KEYS[1] the batch's targets (HASH targetId -> JSON BatchTargetState)
    KEYS[2] the batch's totals (HASH inputTokens, outputTokens, costMicroUsd)
    KEYS[3] the attempts already counted (SET of '<targetId>:a<attempt>')

    ARGV[1] target id
    ARGV[2] the terminal state, JSON
    ARGV[3] the attempt
    ARGV[4] input tokens
    ARGV[5] output tokens
    ARGV[6] cost in micro-dollars (an integer)

  Output:
     1  recorded
     2  this attempt was already recorded; nothing changed
     0  stale: another attempt is current
    -1  no such target
]]
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then
  return -1
end
local current = cjson.decode(raw)
if tonumber(current.attempt) ~= tonumber(ARGV[3]) then
  return 0
end
if redis.call('SADD', KEYS[3], ARGV[1] .. ':a' .. ARGV[3]) == 0 then
  return 2
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], 'inputTokens', ARGV[4])
redis.call('HINCRBY', KEYS[2], 'outputTokens', ARGV[5])
redis.call('HINCRBY', KEYS[2], 'costMicroUsd', ARGV[6])
return 1
