/**
 * A small Redis lease: `SET key token NX PX ttl`, renewed while held, released only by its owner.
 *
 * Used for "one process at a time" jobs that adapters run themselves: fetching an access token,
 * pulling WeChat Customer Service messages, holding the DingTalk stream connection. It is a lease,
 * not a fencing lock: a holder that stalls longer than `ttl` loses it, notices on its next renewal
 * and must stop (`onLost`).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Delete the key only if it still holds our token (someone else may own it by now). */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
/** Extend the key only if it still holds our token. */
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export function newLockToken(): string {
  return randomBytes(12).toString('base64url');
}

/** One attempt; returns the token when acquired, else null. */
export async function tryAcquireLock(redis: Redis, key: string, ttlMs: number): Promise<string | null> {
  const token = newLockToken();
  const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
  return ok === 'OK' ? token : null;
}

export async function releaseLock(redis: Redis, key: string, token: string): Promise<boolean> {
  return (await redis.eval(RELEASE, 1, key, token)) === 1;
}

export async function renewLock(redis: Redis, key: string, token: string, ttlMs: number): Promise<boolean> {
  return (await redis.eval(RENEW, 1, key, token, String(ttlMs))) === 1;
}

export interface LeaseOptions {
  redis: Redis;
  key: string;
  ttlMs: number;
  /** Renewal period; default a third of the ttl so two missed renewals still keep the lease. */
  renewEveryMs?: number;
  /** Called once when the lease is gone (taken over, expired, or Redis unreachable for a whole ttl). */
  onLost?: (reason: string) => void;
}

/** A held lease that renews itself until `release()` or loss. */
export class Lease {
  readonly key: string;
  readonly token: string;
  #lost = false;
  #released = false;
  #timer: NodeJS.Timeout | undefined;
  #lastRenewed = Date.now();
  readonly #opts: LeaseOptions;

  private constructor(opts: LeaseOptions, token: string) {
    this.#opts = opts;
    this.key = opts.key;
    this.token = token;
    const every = opts.renewEveryMs ?? Math.max(50, Math.floor(opts.ttlMs / 3));
    this.#timer = setInterval(() => void this.#renew(), every);
    this.#timer.unref();
  }

  /** Acquire once; null when someone else holds it. */
  static async tryAcquire(opts: LeaseOptions): Promise<Lease | null> {
    const token = await tryAcquireLock(opts.redis, opts.key, opts.ttlMs);
    return token === null ? null : new Lease(opts, token);
  }

  get held(): boolean {
    return !this.#lost && !this.#released;
  }

  async #renew(): Promise<void> {
    if (!this.held) return;
    try {
      const ok = await renewLock(this.#opts.redis, this.key, this.token, this.#opts.ttlMs);
      if (ok) {
        this.#lastRenewed = Date.now();
        return;
      }
      this.#markLost('lease taken over or expired');
    } catch (err) {
      // A Redis hiccup is not a loss yet; once a whole ttl passed without renewal, another process
      // may legitimately hold the lease, so we must behave as if we lost it.
      if (Date.now() - this.#lastRenewed >= this.#opts.ttlMs) {
        this.#markLost(`renewal failing: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  #markLost(reason: string): void {
    if (!this.held) return;
    this.#lost = true;
    clearInterval(this.#timer);
    this.#opts.onLost?.(reason);
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#timer);
    if (this.#lost) return;
    await releaseLock(this.#opts.redis, this.key, this.token).catch(() => undefined);
  }
}
