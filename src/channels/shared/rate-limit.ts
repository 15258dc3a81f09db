/**
 * Multi-window sliding-log rate limiter in Redis, shared by every process sending for one app.
 *
 * Platforms count sends per member, per app and per corp over minutes and hours, and *drop* the
 * excess (WeCom) rather than queue it. So before each platform call the sender reserves one slot
 * in every window that applies, atomically: either all windows have room and all are charged, or
 * none is charged and the caller learns how long until the tightest window frees a slot. The
 * caller then waits (short) or re-queues the message with that delay (long) — delayed, never dropped.
 *
 * A sorted set per window keeps the send times: exact at window edges (a fixed-window counter
 * would allow twice the limit across a boundary, which the platform would drop). Memory is bounded
 * by the limit (30 000 entries for WeCom's per-corp hour).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface RateWindow {
  /** Full Redis key of this window's log. */
  key: string;
  limit: number;
  windowMs: number;
}

export type Reservation = { ok: true } | { ok: false; retryAfterMs: number; key: string };

// KEYS: one per window. ARGV: now, member, then limit,windowMs per window.
// Returns {} when reserved, else {waitMs, index} of the window that waits longest.
const RESERVE = `
local now = tonumber(ARGV[1])
local member = ARGV[2]
local worstWait, worstIdx = 0, 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + i * 2])
  local window = tonumber(ARGV[2 + i * 2])
  redis.call('zremrangebyscore', key, '-inf', now - window)
  if redis.call('zcard', key) >= limit then
    -- the slot frees when the entry 'limit' places from the newest leaves the window
    local idx = redis.call('zcard', key) - limit
    local entry = redis.call('zrange', key, idx, idx, 'WITHSCORES')
    local wait = tonumber(entry[2]) + window - now
    if wait < 1 then wait = 1 end
    if wait > worstWait then worstWait, worstIdx = wait, i end
  end
end
if worstIdx > 0 then return {worstWait, worstIdx} end
for i, key in ipairs(KEYS) do
  redis.call('zadd', key, now, member)
  redis.call('pexpire', key, tonumber(ARGV[2 + i * 2]))
end
return {}
`;

/** Reserve one slot in every window, or none. `now` is injectable for tests (ms). */
export async function reserveRate(
  redis: Redis,
  windows: RateWindow[],
  now = Date.now(),
): Promise<Reservation> {
  const active = windows.filter((w) => w.limit > 0 && w.windowMs > 0);
  if (active.length === 0) return { ok: true };
  const member = `${now}-${randomBytes(6).toString('base64url')}`;
  const args: (string | number)[] = [now, member];
  for (const w of active) args.push(w.limit, w.windowMs);
  const res = (await redis.eval(RESERVE, active.length, ...active.map((w) => w.key), ...args)) as number[];
  if (res.length === 0) return { ok: true };
  const [waitMs = 1, idx = 1] = res;
  return { ok: false, retryAfterMs: waitMs, key: active[idx - 1]?.key ?? '' };
}
