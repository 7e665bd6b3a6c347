--[[
  Takes a session's lease if nobody holds it. Every change of hands increments the session's
  fencing epoch; the lease value embeds it, so a former holder's token never matches again.

  Input:
    KEYS[1] lease key
    KEYS[2] session meta hash

    ARGV[1] owner id (worker id)
    ARGV[2] lease TTL (ms)

  Output:
    {epoch, token}  acquired
    {0, holder}     held by someone else
    {-1, ''}        the session does not exist
]]
local holder = redis.call('GET', KEYS[1])
if holder then
  return {0, holder}
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  return {-1, ''}
end
local epoch = redis.call('HINCRBY', KEYS[2], 'epoch', 1)
local token = ARGV[1] .. ':' .. epoch
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
redis.call('HSET', KEYS[2], 'status', 'running')
return {epoch, token}
