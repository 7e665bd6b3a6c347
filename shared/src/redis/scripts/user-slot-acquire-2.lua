--[[
  Takes one of a user's running-turn slots for a session, or parks the job when all are taken.
  Slots expire unless renewed, so a worker that dies frees its user's slot.

  Input:
    KEYS[1] the user's active sessions (zset: sessionId -> expiry ms)
    KEYS[2] the user's parked jobs (zset: jobId -> parked at ms)
    ARGV[1] session id
    ARGV[2] now (ms)
    ARGV[3] slot TTL (ms)
    ARGV[4] the user's limit
    ARGV[5] job id to park when full

  Output: 1 admitted, 0 parked
]]
local now = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[5])
  return 1
end
redis.call('ZADD', KEYS[2], 'NX', now, ARGV[5])
return 0
