/**
 * Platform-level dedupe: "have we already accepted this platform message?".
 *
 * A BullMQ job id alone stops deduping once the job is removed, and platforms retry for minutes
 * (WeCom: 3× after 5 s; DingTalk, Telegram: longer), so the hub keeps its own marker with a TTL
 * that outlasts every retry window (queue.dedupeTtl, 7 days by default).
 *
 * Three states make acceptance crash-safe without a distributed transaction:
 *   absent            → claim it ("pending", short TTL), enqueue, then confirm ("accepted", long TTL)
 *   pending:<token>   → another request is enqueuing right now: answer 503, the platform retries
 *   accepted:<jobId>  → duplicate: acknowledge and do nothing
 * A process that dies between claim and enqueue leaves only a pending marker, which expires,
 * so the platform's next retry is accepted. Nothing is lost and nothing is doubled.
 */
import type { Redis } from 'ioredis';
import { redisKey } from './names.ts';

export type ClaimResult = 'new' | 'duplicate' | 'in_flight';

const CLAIM = `
local ok = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
if ok then return 'new' end
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 8) == 'pending:' then return 'in_flight' end
return 'duplicate'
`;

/** Release only our own pending claim (never someone else's, never an accepted marker). */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export class DedupeRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
    private readonly pendingMs = 30_000,
  ) {}

  key(dedupeKey: string): string {
    return redisKey(this.prefix, 'dedupe', dedupeKey);
  }

  async claim(dedupeKey: string, token: string): Promise<ClaimResult> {
    const result = await this.redis.eval(CLAIM, 1, this.key(dedupeKey), `pending:${token}`, this.pendingMs);
    return result as ClaimResult;
  }

  async confirm(dedupeKey: string, jobId: string): Promise<void> {
    await this.redis.set(this.key(dedupeKey), `accepted:${jobId}`, 'PX', this.ttlMs);
  }

  async release(dedupeKey: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key(dedupeKey), `pending:${token}`);
  }

  /** Forget a message (ops replay of a message the platform will not resend). */
  async forget(dedupeKey: string): Promise<void> {
    await this.redis.del(this.key(dedupeKey));
  }
}
