--[[
  Reads a session's head for its manifest in one consistent view: the meta hash and the segment
  list items after its snapshot packs. Separate reads could pair a snapshot pointer with a list
  that has moved on, or a last seq with fewer segments than it needs.

  Input:
    KEYS[1] session meta hash
    KEYS[2] segment list

  Output: {meta as a flat field/value array, items after the snapshot packs}; {{}, {}} when no
  session
]]
local meta = redis.call('HGETALL', KEYS[1])
if #meta == 0 then
  return {{}, {}}
end
local folded = tonumber(redis.call('HGET', KEYS[1], 'packedItems') or '0')
return {meta, redis.call('LRANGE', KEYS[2], folded, -1)}
