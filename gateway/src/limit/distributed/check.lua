-- The rule of gateway/src/limit/decide.rs, run atomically inside Redis so that every gateway
-- replica counts against the same state. Keep the two in step: a test runs both on one sequence.
--
-- KEYS[1]  the rate key: GCRA's theoretical arrival time (TAT), µs since the Unix epoch
-- KEYS[2]  the quota key: requests counted in the current calendar period (its label is in the key)
-- ARGV[1]  now, µs since the Unix epoch
-- ARGV[2]  T, the GCRA emission interval in µs; 0 when the plan has no rate limit
-- ARGV[3]  τ, the GCRA tolerance in µs
-- ARGV[4]  the quota's requests per period; 0 when the plan has no quota
-- ARGV[5]  how long the quota key outlives this call, ms: to the period's end, plus a margin
--
-- Returns {allowed (1 or 0), the TAT read (0 if none), the quota count read}: the state before this
-- request, from which the gateway derives the headers with the same Rust code as the local store.
-- All numbers are integers below 2^53, so Lua's doubles hold them exactly; they are written back
-- with '%d', since Redis would print a large Lua number in exponent form.
local now = tonumber(ARGV[1])
local emission = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local quota = tonumber(ARGV[4])

local allowed = 1
local tat = 0
local used = 0
if emission > 0 then
  tat = tonumber(redis.call('GET', KEYS[1]) or '0')
  if math.max(tat, now) - now > tolerance then
    allowed = 0
  end
end
if quota > 0 then
  used = tonumber(redis.call('GET', KEYS[2]) or '0')
  if used >= quota then
    allowed = 0
  end
end

if allowed == 1 then
  if emission > 0 then
    -- The key lives as long as it says something: until the burst is whole again.
    local next_tat = math.max(tat, now) + emission
    local ttl_ms = math.ceil((next_tat - now) / 1000)
    redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', string.format('%d', ttl_ms))
  end
  if quota > 0 then
    if redis.call('INCR', KEYS[2]) == 1 then
      redis.call('PEXPIRE', KEYS[2], ARGV[5])
    end
  end
end
return {allowed, tat, used}
