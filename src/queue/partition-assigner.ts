/**
 * Which worker process consumes which partition. A partition must be consumed by exactly one
 * process at a time (that is what keeps a conversation's messages in order), so ownership is a
 * Redis lease renewed by its holder. Live processes heartbeat into a sorted set; each aims at an
 * equal share (ceil(partitions / live)), gives back extras gracefully (finish the in-flight job,
 * then drop the lease) and picks up free partitions, including those of a process that died —
 * whose leases simply expire. No coordinator, nothing but Redis.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { metrics } from '../metrics.ts';
import { redisKey } from './names.ts';

export interface PartitionAssignerOptions {
  redis: Redis;
  prefix: string;
  partitions: number;
  leaseMs: number;
  workerId: string;
  logger: Logger;
  /** Start consuming partition p. Must return promptly (do slow preparation in the background). */
  onAcquire(partition: number): void;
  /** Stop consuming partition p; resolves once its in-flight jobs are finished. */
  onRelease(partition: number): Promise<void>;
}

const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
return redis.call('ZCARD', KEYS[1])
`;

/** Renew the leases we hold; returns the indexes (1-based KEYS positions) we no longer hold. */
const RENEW = `
local lost = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
  else
    table.insert(lost, i)
  end
end
return lost
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export class PartitionAssigner {
  private readonly owned = new Set<number>();
  private readonly releasing = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private stopped = false;
  private readonly scanOffset: number;

  constructor(private readonly opts: PartitionAssignerOptions) {
    this.scanOffset = Math.floor(Math.random() * opts.partitions);
  }

  ownedPartitions(): number[] {
    return [...this.owned].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.opts.leaseMs / 3)));
  }

  /** Give every partition back gracefully; leases keep being renewed until their jobs finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.ticking) await sleep(20);
    await Promise.all([...this.owned].map((p) => this.giveBack(p)));
    clearInterval(this.timer);
    await this.opts.redis.zrem(this.workersKey(), this.opts.workerId).catch(() => 0);
  }

  private leaseKey(p: number): string {
    return redisKey(this.opts.prefix, 'partition', String(p));
  }

  private workersKey(): string {
    return redisKey(this.opts.prefix, 'workers');
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      if (this.stopped) {
        await this.renew();
        return;
      }
      const { redis, workerId, leaseMs, partitions } = this.opts;
      const live = Number(await redis.eval(HEARTBEAT, 1, this.workersKey(), workerId, leaseMs));
      await this.renew();
      const target = Math.ceil(partitions / Math.max(1, live));
      const extras = this.ownedPartitions().slice(target);
      for (const p of extras) void this.giveBack(p);
      for (let i = 0; i < partitions && this.owned.size < target && !this.stopped; i++) {
        const p = (this.scanOffset + i) % partitions;
        if (this.owned.has(p) || this.releasing.has(p)) continue;
        const ok = await redis.set(this.leaseKey(p), workerId, 'PX', leaseMs, 'NX');
        if (ok) {
          this.owned.add(p);
          this.opts.logger.info({ partition: p, workerId }, 'partition acquired');
          this.opts.onAcquire(p);
        }
      }
      metrics.ownedPartitions.set(this.owned.size);
    } catch (err) {
      this.opts.logger.warn({ err }, 'partition lease tick failed; will retry');
    } finally {
      this.ticking = false;
    }
  }

  private async renew(): Promise<void> {
    const held = [...this.owned, ...this.releasing];
    if (held.length === 0) return;
    const keys = held.map((p) => this.leaseKey(p));
    const lost = (await this.opts.redis.eval(
      RENEW,
      keys.length,
      ...keys,
      this.opts.workerId,
      this.opts.leaseMs,
    )) as number[];
    for (const index of lost) {
      const p = held[index - 1]!;
      if (!this.owned.delete(p)) continue;
      this.opts.logger.warn({ partition: p }, 'partition lease lost; stopping its workers');
      void this.opts.onRelease(p);
    }
  }

  /** Finish in-flight work, then drop the lease (renewed meanwhile, so nobody takes over early). */
  private async giveBack(p: number): Promise<void> {
    if (!this.owned.delete(p)) return;
    this.releasing.add(p);
    try {
      await this.opts.onRelease(p);
      await this.opts.redis.eval(RELEASE, 1, this.leaseKey(p), this.opts.workerId);
      this.opts.logger.info({ partition: p }, 'partition released');
    } finally {
      this.releasing.delete(p);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
