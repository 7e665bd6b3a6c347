--[[
  Counts a user's queued turns of one class and returns the BullMQ priority of the new one: the
  class's base plus how many of that user's turns of the class are already queued. A user with
  1000 queued turns gets priorities base+1..base+1000, so another user's first turn (base+1)
  runs next: least-queued-first between users, FIFO within a user.

  Input:
    KEYS[1] queued counts hash (field: "<class>:<owner>")
    ARGV[1] field
    ARGV[2] class base priority
    ARGV[3] class span (priorities available to the class)

  Output: the priority
]]
local queued = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
return tonumber(ARGV[2]) + math.min(queued, tonumber(ARGV[3]) - 1)
