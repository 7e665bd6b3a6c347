--[[
  Records a new fork of a session before the fork becomes visible. The fork references the
  source's segment blobs (and, through them, its ancestors'), so a deletion of the source keeps
  those blobs while this record exists. Refused once the source is deleted: a deletion and a
  fork of the same session are ordered here, on the source's slot.

  Input:
    KEYS[1] source session meta hash
    KEYS[2] source forks (ZSET fork id -> registered at)

    ARGV[1] fork session id
    ARGV[2] now (ms)

  Output: 1 registered, 0 the source does not exist (deleted)
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
