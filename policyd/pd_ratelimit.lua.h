/* SPDX-License-Identifier: MIT */
/*
 * The rate-limit script, one EVALSHA per decision.  Included once, by
 * pd_policy.c.
 *
 * KEYS[i]  one counter per rule that applies, in rule order.
 * ARGV[1]  a member id unique to this decision (host:pid:seq).
 * ARGV[2i], ARGV[2i+1]  rule i's count and period in ms.
 *
 * Time is Redis's own (TIME), so every policyd on every host sharing the
 * Redis agrees on it.  All counters are checked before any is charged:
 * a request refused by rule 2 does not use up rule 1's allowance.
 *
 * count <= 1000: an exact sliding window, a sorted set of admission
 * times: at most count admissions in any window of period, so no 2x
 * burst at a boundary (10/1s over 5 s admits 50).  Memory is one member
 * per admission in the window.
 * count > 1000: GCRA (one number, the theoretical arrival time) with a
 * burst of count, so large daily limits cost one key, not count members.
 *
 * Returns {0, 0} when admitted (every counter charged), or {i, ms}: rule
 * i is exceeded, retry in ms.
 */
#define PD_RATELIMIT_LUA                                                       \
	"local t = redis.call('TIME')\n"                                       \
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / "     \
	"1000)\n"                                                              \
	"for i = 1, #KEYS do\n"                                                \
	"  local count = tonumber(ARGV[2 * i])\n"                              \
	"  local period = tonumber(ARGV[2 * i + 1])\n"                         \
	"  if count <= 1000 then\n"                                            \
	"    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - period)\n"  \
	"    if redis.call('ZCARD', KEYS[i]) >= count then\n"                  \
	"      local o = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')\n"  \
	"      local retry = tonumber(o[2]) + period - now\n"                  \
	"      if retry < 1 then retry = 1 end\n"                              \
	"      return {i, retry}\n"                                            \
	"    end\n"                                                            \
	"  else\n"                                                             \
	"    local tat = tonumber(redis.call('GET', KEYS[i]) or now)\n"        \
	"    if tat < now then tat = now end\n"                                \
	"    local wait = tat + period / count - period - now\n"               \
	"    if wait > 0 then return {i, math.ceil(wait)} end\n"               \
	"  end\n"                                                              \
	"end\n"                                                                \
	"for i = 1, #KEYS do\n"                                                \
	"  local count = tonumber(ARGV[2 * i])\n"                              \
	"  local period = tonumber(ARGV[2 * i + 1])\n"                         \
	"  if count <= 1000 then\n"                                            \
	"    redis.call('ZADD', KEYS[i], now, ARGV[1])\n"                      \
	"    redis.call('PEXPIRE', KEYS[i], period)\n"                         \
	"  else\n"                                                             \
	"    local tat = tonumber(redis.call('GET', KEYS[i]) or now)\n"        \
	"    if tat < now then tat = now end\n"                                \
	"    tat = tat + period / count\n"                                     \
	"    redis.call('SET', KEYS[i], string.format('%.3f', tat), 'PX', "    \
	"math.ceil(tat - now) + 1)\n"                                          \
	"  end\n"                                                              \
	"end\n"                                                                \
	"return {0, 0}\n"
