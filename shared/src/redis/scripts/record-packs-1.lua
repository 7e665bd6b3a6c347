--[[
  Replaces a session's list of snapshot packs, once the blobs of the new list are stored: a
  compare-and-set on the list the writer started from. Two workers may pack the same session (one
  just lost its lease); only one of them moves the list, and never backwards.

  Input:
    KEYS[1] session meta hash

    ARGV[1] the packs field the writer read ('' when there was none), JSON
    ARGV[2] the new packs field, JSON
    ARGV[3] the last seq the new packs reach
    ARGV[4] how many segment list items the new packs fold (kept beside them for read-head-2)

  Output: 1 replaced, 0 not (the session is gone, or the list changed meanwhile)
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local current = redis.call('HGET', KEYS[1], 'packs') or ''
local last = tonumber(redis.call('HGET', KEYS[1], 'lastSeq') or '0')
if current ~= ARGV[1] or tonumber(ARGV[3]) > last then
  return 0
end
redis.call('HSET', KEYS[1], 'packs', ARGV[2], 'packedItems', ARGV[4])
return 1
