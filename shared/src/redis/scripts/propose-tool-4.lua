--[[
  Records a tool proposal as pending, once per content hash. The definition blob is written
  before this runs, so a recorded proposal never points at a missing blob.

  Input:
    KEYS[1] session meta hash
    KEYS[2] the session's proposal index (ZSET id -> first proposed at)
    KEYS[3] the proposal's hash
    KEYS[4] the session's approved tools (HASH name -> proposal id)

    ARGV[1] proposal id
    ARGV[2] tool name
    ARGV[3] now (ms)
    ARGV[4] most proposals a session may hold
    ARGV[5] the model's reason

  Output:
    {1, ''}      recorded as pending
    {2, ''}      already proposed (any status); nothing changed
    {-1, ''}     the session does not exist
    {-2, ''}     the session holds the most proposals it may
    {-3, id}     an approved proposal with another definition holds the name
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {-1, ''}
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  return {2, ''}
end
local holder = redis.call('HGET', KEYS[4], ARGV[2])
if holder then
  return {-3, holder}
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
  return {-2, ''}
end
redis.call('HSET', KEYS[3], 'id', ARGV[1], 'name', ARGV[2], 'status', 'pending',
  'proposedAt', ARGV[3], 'reason', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return {1, ''}
