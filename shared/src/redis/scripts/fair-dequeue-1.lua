--[[
  A queued turn started: the user's count of queued turns of its class goes down, never below 0
  (turns queued again by recovery paths were never counted).

  Input:
    KEYS[1] queued counts hash
    ARGV[1] field "<class>:<owner>"

  Output: the count left
]]
local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if left <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 0
end
return left
