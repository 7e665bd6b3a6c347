--[[
  Takes every steering message waiting for a session's running turn, atomically, so each is
  delivered once.

  Input:
    KEYS[1] steering list

  Output: the messages (JSON), oldest first
]]
local messages = redis.call('LRANGE', KEYS[1], 0, -1)
if #messages > 0 then
  redis.call('DEL', KEYS[1])
end
return messages
