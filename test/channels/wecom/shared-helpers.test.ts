/**
 * The helpers in src/channels/shared/ that both adapters use: UTF-8 splitting, the Redis rate
 * limiter, the Redis lease and the access-token cache (real Redis).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AccessTokenCache } from '../../../src/channels/shared/access-token.ts';
import { redisKey } from '../../../src/channels/shared/keys.ts';
import { reserveRate } from '../../../src/channels/shared/rate-limit.ts';
import { Lease } from '../../../src/channels/shared/redis-lock.ts';
import { splitUtf8 } from '../../../src/channels/shared/split-text.ts';
import { redisEnv } from './helpers.ts';

const env = redisEnv();
afterAll(() => env.cleanup());
const key = (...p: string[]) => redisKey(env.keyPrefix, 'unit', ...p);

describe('splitUtf8', () => {
  it('keeps short text whole and drops empty text', () => {
    expect(splitUtf8('hi', 2048)).toEqual(['hi']);
    expect(splitUtf8('', 2048)).toEqual([]);
  });

  it('cuts exactly at the byte budget on character boundaries', () => {
    const parts = splitUtf8('中'.repeat(10), 8); // 3 bytes each: 2 per part
    expect(parts).toEqual(['中中', '中中', '中中', '中中', '中中']);
    const mixed = splitUtf8('a😀b😀c', 5); // 1+4 | 1+4 | 1
    expect(mixed).toEqual(['a😀', 'b😀', 'c']);
  });

  it('prefers a line break in the last quarter of a chunk', () => {
    const text = 'x'.repeat(90) + '\n' + 'y'.repeat(50);
    expect(splitUtf8(text, 100)).toEqual(['x'.repeat(90) + '\n', 'y'.repeat(50)]);
    // A break too early would waste most of the chunk: cut at the budget instead.
    const early = 'x'.repeat(10) + '\n' + 'y'.repeat(150);
    expect(splitUtf8(early, 100)[0]).toHaveLength(100);
  });
});

describe('reserveRate', () => {
  it('admits up to the limit per window, then says how long to wait; all windows or none', async () => {
    const w = [
      { key: key('rl', 'a'), limit: 2, windowMs: 1000 },
      { key: key('rl', 'b'), limit: 3, windowMs: 10_000 },
    ];
    const t0 = 1_000_000;
    expect(await reserveRate(env.redis, w, t0)).toEqual({ ok: true });
    expect(await reserveRate(env.redis, w, t0 + 100)).toEqual({ ok: true });
    const blocked = await reserveRate(env.redis, w, t0 + 200);
    expect(blocked).toEqual({ ok: false, retryAfterMs: 800, key: key('rl', 'a') });
    // Nothing was charged to window b by the refused call: it still has one slot.
    expect(await reserveRate(env.redis, w, t0 + 1001)).toEqual({ ok: true });
    const hour = await reserveRate(env.redis, w, t0 + 2500);
    expect(hour).toEqual({ ok: false, retryAfterMs: 7500, key: key('rl', 'b') });
  });
});

describe('Lease', () => {
  it('one holder at a time; released leases can be taken; a stolen lease reports loss', async () => {
    const k = key('lease', 'x');
    const a = await Lease.tryAcquire({ redis: env.redis, key: k, ttlMs: 300 });
    expect(a).not.toBeNull();
    expect(await Lease.tryAcquire({ redis: env.redis, key: k, ttlMs: 300 })).toBeNull();
    // Renewal keeps it past its ttl.
    await new Promise((r) => setTimeout(r, 450));
    expect(await Lease.tryAcquire({ redis: env.redis, key: k, ttlMs: 300 })).toBeNull();
    await a!.release();
    const lost: string[] = [];
    const b = await Lease.tryAcquire({ redis: env.redis, key: k, ttlMs: 300, onLost: (r) => lost.push(r) });
    expect(b).not.toBeNull();
    await env.redis.set(k, 'someone-else');
    await new Promise((r) => setTimeout(r, 250));
    expect(lost).toHaveLength(1);
    expect(b!.held).toBe(false);
    await b!.release(); // must not delete someone else's lease
    expect(await env.redis.get(k)).toBe('someone-else');
  });
});

describe('AccessTokenCache', () => {
  it('stores with the margin subtracted, fetches once across instances, invalidates only the bad token', async () => {
    let fetches = 0;
    const fetch = async () => {
      fetches++;
      await new Promise((r) => setTimeout(r, 40));
      return { token: `t${fetches}`, expiresInSec: 7200 };
    };
    const k = key('token', 'app');
    const a = new AccessTokenCache({ redis: env.redis, key: k, fetch });
    const b = new AccessTokenCache({ redis: env.connect(), key: k, fetch });
    const got = await Promise.all([
      ...Array.from({ length: 10 }, () => a.get()),
      ...Array.from({ length: 10 }, () => b.get()),
    ]);
    expect(new Set(got)).toEqual(new Set(['t1']));
    expect(fetches).toBe(1);
    const ttl = await env.redis.ttl(k);
    expect(ttl).toBeGreaterThan(6800);
    expect(ttl).toBeLessThanOrEqual(6900);
    // b learned t1 is bad and refetches t2; a's stale invalidate(t1) must not delete t2.
    await b.invalidate('t1');
    expect(await b.get()).toBe('t2');
    await a.invalidate('t1');
    expect(await env.redis.get(k)).toBe('t2');
    expect(await a.get()).toBe('t2');
  });

  it('a failed fetch reaches every waiter and is not cached', async () => {
    let n = 0;
    const c = new AccessTokenCache({
      redis: env.redis,
      key: key('token', 'bad'),
      fetch: async () => {
        n++;
        throw new Error('40001 invalid credential');
      },
    });
    const results = await Promise.allSettled([c.get(), c.get(), c.get()]);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(n).toBe(1);
    await expect(c.get()).rejects.toThrow('40001');
    expect(n).toBe(2);
  });
});
