--[[
  Advances a session's head after its new segment is stored: a compare-and-set on the lease
  token (fencing) and on the last sequence number (no lost or doubled entries).

  Input:
    KEYS[1] lease key
    KEYS[2] session meta hash
    KEYS[3] segment list

    ARGV[1] lease token
    ARGV[2] expected last seq
    ARGV[3] new last seq
    ARGV[4] segment name
    ARGV[5] input seq this commit completes, or '' when the turn goes on
    ARGV[6] now (ms)

  Output: 1 committed, -1 fenced (lease lost), -2 conflict (head moved)
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -1
end
local last = tonumber(redis.call('HGET', KEYS[2], 'lastSeq') or '0')
if last ~= tonumber(ARGV[2]) then
  -- The same commit sent again (the client resends a call whose reply a Redis restart lost):
  -- stamped segment names are unique, so finding this one at the head means it was applied.
  if last == tonumber(ARGV[3]) and redis.call('LINDEX', KEYS[3], -1) == ARGV[4] then
    return 1
  end
  return -2
end
redis.call('HSET', KEYS[2], 'lastSeq', ARGV[3], 'updatedAt', ARGV[6])
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[2], 'doneInputSeq', ARGV[5])
end
redis.call('RPUSH', KEYS[3], ARGV[4])
return 1
