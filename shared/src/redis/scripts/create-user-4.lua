--[[
  Creates a user with its first API token, the name being unique. With ARGV[8] = 'first' it
  creates the user only while no user exists at all: two `tern up` starting at once bootstrap one
  admin, not two.

  The token record repeats the user's name and role so that authenticating a request is one
  HGETALL (users are never renamed and their role never changes).

  Input:
    KEYS[1] names (HASH name -> user id)
    KEYS[2] the user (HASH id, name, admin, createdAt)
    KEYS[3] the token's lookup record (HASH userId, name, admin, tokenId), keyed by its sha256
    KEYS[4] the token registry (HASH token id -> JSON {userId, hash, createdAt})

    ARGV[1] name
    ARGV[2] user id
    ARGV[3] '1' admin, '0' not
    ARGV[4] token sha256 (hex)
    ARGV[5] token id
    ARGV[6] now (ms)
    ARGV[7] registry entry JSON
    ARGV[8] 'first' to create only the first user, 'any' otherwise

  Output:
    1   created
    0   the name is taken
    -1  ARGV[8] is 'first' and a user exists
]]
if ARGV[8] == 'first' and redis.call('HLEN', KEYS[1]) > 0 then
  return -1
end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return 0
end
redis.call('HSET', KEYS[2], 'id', ARGV[2], 'name', ARGV[1], 'admin', ARGV[3], 'createdAt', ARGV[6])
redis.call('HSET', KEYS[3], 'userId', ARGV[2], 'name', ARGV[1], 'admin', ARGV[3],
  'tokenId', ARGV[5])
redis.call('HSET', KEYS[4], ARGV[5], ARGV[7])
return 1
