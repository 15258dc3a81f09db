/**
 * Access-token cache shared by every process of the hub.
 *
 * Platforms (WeCom `gettoken`, DingTalk `oauth2/accessToken`) hand out tokens valid ~2 h and
 * rate-limit the token endpoint itself, so a token lives in Redis, keyed per app credential, and is
 * fetched by one caller at a time:
 * - in-process, concurrent callers share one promise;
 * - across processes, a Redis lease elects the fetcher; the others poll the key until it appears.
 * The Redis copy expires `refreshMarginSec` before the platform's expiry, so a token is replaced
 * before it can go stale mid-request. `invalidate(bad)` drops it only if it is still the bad one,
 * so a slow caller cannot delete the fresh token another process just stored.
 */
import type { Redis } from 'ioredis';
import { releaseLock, tryAcquireLock } from './redis-lock.ts';

export interface FetchedToken {
  token: string;
  /** Lifetime the platform announced, in seconds. */
  expiresInSec: number;
}

export interface AccessTokenCacheOptions {
  redis: Redis;
  /** Full Redis key of the cached token (include the app id and a hash of the secret). */
  key: string;
  /** Calls the platform. Throw on failure; the error reaches every waiting caller. */
  fetch: () => Promise<FetchedToken>;
  /** Replace the token this long before it expires. Default 300 s. */
  refreshMarginSec?: number;
  /** How long a fetcher may hold the fetch lease. Default 10 s. */
  lockTtlMs?: number;
  /** How long a caller waits for another process's fetch before giving up. Default 15 s. */
  waitTimeoutMs?: number;
  /** Poll period while another process fetches. Default 50 ms. */
  pollMs?: number;
  now?: () => number;
}

const DEL_IF_EQUAL = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export class AccessTokenCache {
  readonly #o: Required<Omit<AccessTokenCacheOptions, 'now'>> & { now: () => number };
  #local: { token: string; until: number } | undefined;
  #inflight: Promise<string> | undefined;
  /** Number of platform fetches this instance made (metrics, tests). */
  fetches = 0;

  constructor(opts: AccessTokenCacheOptions) {
    this.#o = {
      refreshMarginSec: 300,
      lockTtlMs: 10_000,
      waitTimeoutMs: 15_000,
      pollMs: 50,
      now: Date.now,
      ...opts,
    };
  }

  /** A valid token: local memo, else Redis, else one fetch (single-flight across processes). */
  get(): Promise<string> {
    const local = this.#local;
    if (local && local.until > this.#o.now()) return Promise.resolve(local.token);
    this.#inflight ??= this.#load().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /** The platform rejected `bad` (expired/revoked): forget it unless someone already replaced it. */
  async invalidate(bad: string): Promise<void> {
    if (this.#local?.token === bad) this.#local = undefined;
    await this.#o.redis.eval(DEL_IF_EQUAL, 1, this.#o.key, bad);
  }

  async #load(): Promise<string> {
    const { redis, key, lockTtlMs, waitTimeoutMs, pollMs } = this.#o;
    const lockKey = `${key}:lock`;
    const deadline = this.#o.now() + waitTimeoutMs;
    for (;;) {
      const cached = await this.#readRedis();
      if (cached) return cached;
      const lock = await tryAcquireLock(redis, lockKey, lockTtlMs);
      if (lock !== null) {
        try {
          // Someone may have stored a token between our read and our lock.
          const again = await this.#readRedis();
          if (again) return again;
          return await this.#fetchAndStore();
        } finally {
          await releaseLock(redis, lockKey, lock).catch(() => undefined);
        }
      }
      if (this.#o.now() >= deadline) {
        throw new Error(`access token: timed out waiting for another process to fetch ${key}`);
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  async #readRedis(): Promise<string | null> {
    const [token, pttl] = await Promise.all([
      this.#o.redis.get(this.#o.key),
      this.#o.redis.pttl(this.#o.key),
    ]);
    if (!token || pttl <= 0) return null;
    this.#local = { token, until: this.#o.now() + pttl };
    return token;
  }

  async #fetchAndStore(): Promise<string> {
    this.fetches++;
    const { token, expiresInSec } = await this.#o.fetch();
    if (!token) throw new Error('access token: platform returned an empty token');
    // A lifetime shorter than twice the margin (never seen in practice) is halved instead, so the
    // cached copy still expires before the platform's.
    const margin = this.#o.refreshMarginSec;
    const ttlSec =
      expiresInSec > 2 * margin
        ? Math.floor(expiresInSec - margin)
        : Math.max(1, Math.floor(expiresInSec / 2));
    await this.#o.redis.set(this.#o.key, token, 'EX', ttlSec);
    this.#local = { token, until: this.#o.now() + ttlSec * 1000 };
    return token;
  }
}
