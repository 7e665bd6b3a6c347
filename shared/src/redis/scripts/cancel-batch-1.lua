--[[
  Asks a running batch to stop: it becomes 'cancelling' until its flow's parent job marks it
  'cancelled' (finish-batch-1.lua). A batch already stopping or stopped stays as it is.

  Input:
    KEYS[1] the batch's meta (HASH)

  Output:
    the batch's status after the call, or '' when there is no such batch
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  return ''
end
if status == 'running' then
  redis.call('HSET', KEYS[1], 'status', 'cancelling')
  return 'cancelling'
end
return status
