--[[
  Approves or rejects a pending tool proposal. A decision is final: repeating it changes nothing,
  contradicting it is refused. Approving claims the tool's name for the session, so two approved
  tools never share one.

  Input:
    KEYS[1] the proposal's hash
    KEYS[2] the session's approved tools (HASH name -> proposal id)

    ARGV[1] 'approved' or 'rejected'
    ARGV[2] who decided
    ARGV[3] now (ms)
    ARGV[4] the reviewer's reason, or ''

  Output:
    {1, ''}       decided now
    {2, ''}       the same decision was already recorded; nothing changed
    {-1, ''}      no such proposal
    {-2, status}  already decided the other way
    {-3, id}      another approved proposal holds the name
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  return {-1, ''}
end
if status == ARGV[1] then
  return {2, ''}
end
if status ~= 'pending' then
  return {-2, status}
end
if ARGV[1] == 'approved' then
  local fields = redis.call('HMGET', KEYS[1], 'id', 'name')
  local holder = redis.call('HGET', KEYS[2], fields[2])
  if holder and holder ~= fields[1] then
    return {-3, holder}
  end
  redis.call('HSET', KEYS[2], fields[2], fields[1])
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'decidedBy', ARGV[2], 'decidedAt', ARGV[3],
  'decisionReason', ARGV[4])
return {1, ''}
