--[[
  Ends a deletion once the session's blobs are gone: removes the tombstone, unless a fork was
  still sharing the session's segments (then the caller kept them, and so does the tombstone).

  Input:
    KEYS[1] tombstone hash
    KEYS[2] forks (ZSET)

  Output:
    {1, parent}   finished; the caller unregisters the session from its parent ('' for none)
    {0, ''}       no tombstone (finished before)
    {-1, ''}      forks remain
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, ''}
end
if redis.call('ZCARD', KEYS[2]) > 0 then
  return {-1, ''}
end
local parent = redis.call('HGET', KEYS[1], 'parent') or ''
redis.call('DEL', KEYS[1], KEYS[2])
return {1, parent}
