--[[
  Makes a new session visible: its meta and its index entries, unless a session with that id
  exists already (a retried creation with a given id keeps the first one, whose inputs may have
  moved on since) or was deleted (its id stays dead while its tombstone lasts).

  Input:
    KEYS[1] the session's meta (HASH)
    KEYS[2] the index of every session (ZSET)
    KEYS[3] the owner's index (ZSET), unused when ARGV[3] is ''
    KEYS[4] the session's deletion tombstone

    ARGV[1] the session id
    ARGV[2] now (ms), the index score
    ARGV[3] the owner's user id, or ''
    ARGV[4..] the meta's field/value pairs

  Output:
     1  created
     0  a session with this id exists
    -1  a session with this id was deleted
]]
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
if redis.call('EXISTS', KEYS[4]) == 1 then
  return -1
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
end
return 1
