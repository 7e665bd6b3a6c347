--[[
  Releases a lease held by the caller and records whether inputs still wait.

  Input:
    KEYS[1] lease key
    KEYS[2] session meta hash
    ARGV[1] token

  Output: 1 released, 0 not held
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
local inputSeq = tonumber(redis.call('HGET', KEYS[2], 'inputSeq') or '0')
local done = tonumber(redis.call('HGET', KEYS[2], 'doneInputSeq') or '0')
-- A turn paused for approval keeps saying so until a decision resumes it.
if redis.call('HGET', KEYS[2], 'status') == 'awaiting_approval' and inputSeq > done then
  return 1
end
if inputSeq > done then
  redis.call('HSET', KEYS[2], 'status', 'queued')
else
  redis.call('HSET', KEYS[2], 'status', 'idle')
end
return 1
