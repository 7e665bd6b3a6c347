--[[
  Puts a provider endpoint (an API key or a replica) in cooldown after it refused a call for load
  (429, 529): every worker checks the key before its next call there. A cooldown already running
  longer is kept, so a short retry-after never cuts a longer one short.

  Input:
    KEYS[1]   the endpoint's cooldown (STRING with a PX expiry)

    ARGV[1]   cooldown, ms (>= 1)

  Output:
    {1, ms}     the cooldown now ends ms from now
    {0, left}   a longer cooldown was running; it ends left ms from now
]]
local ms = tonumber(ARGV[1])
local left = redis.call('PTTL', KEYS[1])
if left >= ms then return {0, left} end
redis.call('SET', KEYS[1], '1', 'PX', ms)
return {1, ms}
