--[[
  Forgets a fork that no longer needs its source's segments (it was deleted). When the source is
  itself a tombstone and this was its last fork, the caller finishes the source's deletion.

  Input:
    KEYS[1] source forks (ZSET)
    KEYS[2] source session meta hash
    KEYS[3] source tombstone hash

    ARGV[1] fork session id

  Output: 1 the source is deleted and no fork is left (finish its deletion), else 0
]]
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 0 and redis.call('EXISTS', KEYS[3]) == 1
    and redis.call('ZCARD', KEYS[1]) == 0 then
  return 1
end
return 0
