--[[
  Updates a batch target's state while its attempt is still the current one and unfinished: a
  dispatcher job of an attempt that a retry has since replaced, or of a target already finished,
  changes nothing. Terminal states go through finish-batch-target-3.lua instead.

  Input:
    KEYS[1] the batch's targets (HASH targetId -> JSON BatchTargetState)

    ARGV[1] target id
    ARGV[2] the new state, JSON
    ARGV[3] the attempt the caller works on

  Output:
     1  updated
     0  stale: another attempt is current, or this one finished
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
if current.status ~= 'queued' and current.status ~= 'running' then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
