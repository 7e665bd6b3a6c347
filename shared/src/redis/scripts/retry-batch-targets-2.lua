--[[
  Queues the finished targets whose status is one of ARGV for another attempt: each becomes
  'queued' with its attempt + 1 and a clean slate (its spending stays in the batch's totals).
  When any target is retried, the batch runs again under a new flow number. A batch that is
  being cancelled is refused, so a retry never races the cancel.

  Input:
    KEYS[1] the batch's meta (HASH)
    KEYS[2] the batch's targets (HASH targetId -> JSON BatchTargetState)

    ARGV[1..] the statuses to retry

  Output:
    {1, flowNo, targetId1, attempt1, targetId2, attempt2, ...}  retried (maybe none)
    {-1}  no such batch
    {-2}  the batch is being cancelled
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  return {-1}
end
if status == 'cancelling' then
  return {-2}
end
local wanted = {}
for i = 1, #ARGV do
  wanted[ARGV[i]] = true
end
local retried = {}
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  local state = cjson.decode(all[i + 1])
  if wanted[state.status] then
    local attempt = tonumber(state.attempt) + 1
    local fresh = {
      id = state.id,
      file = state.file,
      name = state.name,
      testFile = state.testFile,
      status = 'queued',
      attempt = attempt,
      tokens = { input = 0, output = 0 },
      costUsd = 0,
    }
    redis.call('HSET', KEYS[2], all[i], cjson.encode(fresh))
    table.insert(retried, all[i])
    table.insert(retried, attempt)
  end
end
local flowNo = tonumber(redis.call('HGET', KEYS[1], 'attemptFlow') or '1')
if #retried > 0 then
  flowNo = redis.call('HINCRBY', KEYS[1], 'attemptFlow', 1)
  redis.call('HSET', KEYS[1], 'status', 'running')
  redis.call('HDEL', KEYS[1], 'finishedAt')
end
local out = {1, flowNo}
for _, v in ipairs(retried) do
  table.insert(out, v)
end
return out
