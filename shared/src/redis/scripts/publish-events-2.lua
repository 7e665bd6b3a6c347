--[[
  Appends events to a session's stream, only while the caller holds the session's lease, so a
  zombie worker's output never reaches clients.

  Input:
    KEYS[1] lease key
    KEYS[2] event stream

    ARGV[1] lease token
    ARGV[2] approximate max stream length
    ARGV[3..n] event payloads (JSON)

  Output: the new entries' ids, or false when fenced
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return false
end
local ids = {}
for i = 3, #ARGV do
  ids[#ids + 1] = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[i])
end
return ids
