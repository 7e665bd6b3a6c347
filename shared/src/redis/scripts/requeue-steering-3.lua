--[[
  Turns steering messages that arrived too late for their turn (after its last step boundary)
  into ordinary inputs, so they are answered next instead of lost.

  Input:
    KEYS[1] session meta hash
    KEYS[2] inputs hash
    KEYS[3] steering list

  Output: how many messages became inputs
]]
local messages = redis.call('LRANGE', KEYS[3], 0, -1)
for _, message in ipairs(messages) do
  local seq = redis.call('HINCRBY', KEYS[1], 'inputSeq', 1)
  redis.call('HSET', KEYS[2], seq, message)
end
if #messages > 0 then
  redis.call('DEL', KEYS[3])
end
return #messages
