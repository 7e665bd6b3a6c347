--[[
  Ends a batch once every target is finished: 'cancelled' when a cancel was asked, else 'done'.
  Run by the parent job of each of the batch's flows; the parent that finds no target queued or
  running ends it, whichever flow it belongs to, so a retry added while the batch ran (a newer
  flow) never lets an older flow's parent end it early, nor the reverse. Finishing again is a
  no-op that answers the status already recorded.

  Input:
    KEYS[1] the batch's meta (HASH)
    KEYS[2] the batch's targets (HASH targetId -> JSON BatchTargetState)

    ARGV[1] now (ms)

  Output:
    {1, status}   finished now
    {2, status}   already finished
    {0, status}   some target is still queued or running
    {-1, ''}      no such batch
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  return {-1, ''}
end
if status == 'done' or status == 'cancelled' then
  return {2, status}
end
local states = redis.call('HVALS', KEYS[2])
for i = 1, #states do
  local target = cjson.decode(states[i])
  if target.status == 'queued' or target.status == 'running' then
    return {0, status}
  end
end
local final = 'done'
if status == 'cancelling' then
  final = 'cancelled'
end
redis.call('HSET', KEYS[1], 'status', final, 'finishedAt', ARGV[1])
return {1, final}
