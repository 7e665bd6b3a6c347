--[[
  Frees a session's slot and hands back the user's longest-parked job, for the caller to promote.

  Input:
    KEYS[1] the user's active sessions
    KEYS[2] the user's parked jobs
    ARGV[1] session id

  Output: the job id to wake, or false
]]
redis.call('ZREM', KEYS[1], ARGV[1])
local parked = redis.call('ZPOPMIN', KEYS[2])
if parked[1] then
  return parked[1]
end
return false
