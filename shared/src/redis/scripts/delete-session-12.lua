--[[
  Deletes a session's state in Redis at once and leaves a tombstone in its place, so the session
  answers 404 everywhere from now on while its blobs are removed afterwards. The tombstone stays
  while forks share the session's segments (KEYS[4] not empty) and until the blob cleanup ends;
  the forks set stays with it. Deleting the lease fences a running worker: its next commit and
  event publish are rejected.

  A session is busy while its lease is held and an input is not done. A worker holding the lease
  with every input done is only wrapping up (releasing it), which does not block a deletion.

  Input:
    KEYS[1] session meta hash
    KEYS[2] lease key
    KEYS[3] tombstone hash
    KEYS[4] forks (ZSET), kept
    KEYS[5..12] every other key of the session to delete (inputs, client ids, segments, events,
            steering, cancel, tool proposal index, approved tools)

    ARGV[1] '1' to delete even while a turn runs
    ARGV[2] now (ms)

  Output:
    {1, parent, forks, running, inputs}  deleted now; running is the input seq of the turn that
                                         held the lease (forced) or 0; inputs the last input seq
    {2, parent, forks, 0, 0}             deleted before; its cleanup may be unfinished
    {0, '', 0, 0, 0}                     no such session
    {-1, '', 0, 0, 0}                    a turn is running and ARGV[1] is not '1'
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  if redis.call('EXISTS', KEYS[3]) == 1 then
    local parent = redis.call('HGET', KEYS[3], 'parent') or ''
    return {2, parent, redis.call('ZCARD', KEYS[4]), 0, 0}
  end
  return {0, '', 0, 0, 0}
end
local inputs = tonumber(redis.call('HGET', KEYS[1], 'inputSeq') or '0')
local done = tonumber(redis.call('HGET', KEYS[1], 'doneInputSeq') or '0')
local running = 0
if redis.call('EXISTS', KEYS[2]) == 1 and done < inputs then
  if ARGV[1] ~= '1' then
    return {-1, '', 0, 0, 0}
  end
  running = done + 1
end
local parent = redis.call('HGET', KEYS[1], 'forkOf') or ''
redis.call('HSET', KEYS[3], 'parent', parent, 'deletedAt', ARGV[2])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10],
  KEYS[11], KEYS[12])
return {1, parent, redis.call('ZCARD', KEYS[4]), running, inputs}
