--[[
  Issues another API token to an existing user.

  Input:
    KEYS[1] the user (HASH id, name, admin, createdAt)
    KEYS[2] the token's lookup record (HASH userId, name, admin, tokenId), keyed by its sha256
    KEYS[3] the token registry (HASH token id -> JSON {userId, hash, createdAt})

    ARGV[1] token id
    ARGV[2] registry entry JSON

  Output:
    1   issued
    0   no such user
]]
local user = redis.call('HMGET', KEYS[1], 'id', 'name', 'admin')
if not user[1] then
  return 0
end
redis.call('HSET', KEYS[2], 'userId', user[1], 'name', user[2], 'admin', user[3],
  'tokenId', ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
return 1
