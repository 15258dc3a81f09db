/**
 * Runs `syncKfMessages` after a `kf_msg_or_event` callback, off the request path, at most one run
 * per open_kfid across all processes.
 *
 * Protocol (no callback is lost, no run overlaps another):
 * 1. the notice is recorded as a *pending* flag (the latest pull token), then the run lease is tried;
 * 2. the lease holder runs syncs while a pending flag exists, clearing a flag only if it is still
 *    the one it read; after releasing the lease it looks at the flag once more.
 * A notice that arrives while another process syncs therefore either is seen by that process's
 * final check or finds the lease free. A process that dies mid-run leaves the flag set;
 * `resumePending()` (called on start) picks such accounts up.
 */
import type { Logger } from 'pino';
import type { InboundDraft } from '../../messages.ts';
import { redisKey } from '../shared/keys.ts';
import { Lease } from '../shared/redis-lock.ts';
import { type KfSyncDeps, type KfSyncResult, syncKfMessages } from './kf-sync.ts';

const PENDING_TTL_MS = 10 * 60_000; // the callback token is valid 10 minutes
const LEASE_TTL_MS = 30_000;
const DEL_IF_EQUAL = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export type Ingest = (drafts: InboundDraft[]) => Promise<unknown>;

export class KfSyncTrigger {
  readonly #deps: KfSyncDeps;
  readonly #logger: Logger;
  readonly #running = new Set<Promise<void>>();
  #ingest: Ingest | undefined;
  /** Called after each completed run (metrics, tests). */
  onRun?: (openKfId: string, result: KfSyncResult) => void;

  constructor(deps: KfSyncDeps) {
    this.#deps = deps;
    this.#logger = deps.logger;
  }

  /** Where pulled drafts go; until set (adapter `start`), notices are only recorded as pending. */
  setIngest(ingest: Ingest | undefined): void {
    this.#ingest = ingest;
  }

  #key(...parts: string[]): string {
    return redisKey(this.#deps.keyPrefix, 'wecom', 'kf', ...parts, this.#deps.corpId);
  }

  /** Record the notice and start a background run. Resolves once the notice is safely recorded. */
  async notify(openKfId: string, token: string): Promise<void> {
    const { redis } = this.#deps;
    // `~` marks "no token" so an empty value is still a set flag.
    await redis
      .multi()
      .set(`${this.#key('pending')}:${openKfId}`, token || '~', 'PX', PENDING_TTL_MS)
      .sadd(this.#key('accounts'), openKfId)
      .exec();
    this.#spawn(openKfId);
  }

  /** Start runs for every account left pending (e.g. by a process that died mid-run). */
  async resumePending(): Promise<void> {
    const accounts = await this.#deps.redis.smembers(this.#key('accounts'));
    for (const openKfId of accounts) {
      if (await this.#deps.redis.exists(`${this.#key('pending')}:${openKfId}`)) this.#spawn(openKfId);
    }
  }

  /** Wait for background runs (adapter `stop`, tests). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  #spawn(openKfId: string): void {
    if (!this.#ingest) return;
    const p = this.#drain(openKfId).catch((err: unknown) => {
      this.#logger.error(
        { err, openKfId },
        'wecom kf: sync failed; the next callback resumes from the saved cursor',
      );
    });
    this.#running.add(p);
    void p.finally(() => this.#running.delete(p));
  }

  async #drain(openKfId: string): Promise<void> {
    const { redis } = this.#deps;
    const pendingKey = `${this.#key('pending')}:${openKfId}`;
    for (;;) {
      const ingest = this.#ingest;
      if (!ingest) return;
      const lease = await Lease.tryAcquire({
        redis,
        key: `${this.#key('lease')}:${openKfId}`,
        ttlMs: LEASE_TTL_MS,
        onLost: (reason) => this.#logger.warn({ openKfId, reason }, 'wecom kf: sync lease lost'),
      });
      if (!lease) return; // the holder will see our pending flag
      try {
        for (;;) {
          const flag = await redis.get(pendingKey);
          if (flag === null || !lease.held) break;
          const result = await syncKfMessages(
            this.#deps,
            { openKfId, token: flag === '~' ? undefined : flag },
            ingest,
          );
          await redis.eval(DEL_IF_EQUAL, 1, pendingKey, flag);
          this.#logger.info(
            { openKfId, pages: result.pages, messages: result.drafts.length, ignored: result.ignored },
            'wecom kf: pulled',
          );
          this.onRun?.(openKfId, result);
        }
      } finally {
        await lease.release();
      }
      if (!(await redis.exists(pendingKey))) return;
    }
  }
}
