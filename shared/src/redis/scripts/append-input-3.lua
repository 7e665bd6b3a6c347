--[[
  Appends a user input to a session's queue of inputs, once per client message id.

  Input:
    KEYS[1] session meta hash
    KEYS[2] inputs hash (inputSeq -> JSON)
    KEYS[3] client message ids hash (clientMessageId -> inputSeq)

    ARGV[1] client message id, or '' for none
    ARGV[2] input JSON without its seq (the script adds it)
    ARGV[3] now (ms)
    ARGV[4] '1' to refuse the input while an earlier one is unfinished (double-texting `reject`)

  Output:
    {0, 0}          the session does not exist
    {seq, 0}        a new input
    {seq, 1}        a retry of an input already accepted
    {-1, 0}         refused: the session is busy
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, 0}
end
if ARGV[1] ~= '' then
  local previous = redis.call('HGET', KEYS[3], ARGV[1])
  if previous then
    return {tonumber(previous), 1}
  end
end
if ARGV[4] == '1' then
  local fields = redis.call('HMGET', KEYS[1], 'inputSeq', 'doneInputSeq')
  if (tonumber(fields[1]) or 0) > (tonumber(fields[2]) or 0) then
    return {-1, 0}
  end
end
local seq = redis.call('HINCRBY', KEYS[1], 'inputSeq', 1)
redis.call('HSET', KEYS[2], seq, ARGV[2])
if ARGV[1] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[1], seq)
end
if redis.call('HGET', KEYS[1], 'status') == 'idle' then
  redis.call('HSET', KEYS[1], 'status', 'queued')
end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[3])
return {seq, 0}
