/**
 * Long-polling mode (`mode: polling`): getUpdates in a loop, for bots without a public URL.
 *
 * Telegram forgets an update once a later getUpdates asks for an `offset` past it. So the offset
 * advances only after the batch was handed to the hub (`onUpdates` resolved): a crash or a Redis
 * outage before that means the same updates come back, and the hub's dedupe drops what was
 * already queued. One process per bot polls (a Redis lease): a second poller would make
 * Telegram answer 409 Conflict to both.
 *
 * @see https://core.telegram.org/bots/api#getupdates
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type Telegram, TelegramError } from 'telegraf';
import type { Update } from 'telegraf/types';
import { errorMessage } from '../../errors.ts';
import { Lease } from '../shared/redis-lock.ts';

export interface TelegramPollerOptions {
  telegram: Telegram;
  redis: Redis;
  leaseKey: string;
  leaseTtlMs: number;
  timeoutSec: number;
  limit: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  requestTimeoutMs: number;
  logger: Logger;
  /** Runs once per poll that holds the lease, before polling (e.g. deleteWebhook). */
  beforePolling?: (signal: AbortSignal) => Promise<void>;
  /** Hand a batch to the hub; reject to have the same batch fetched again. */
  onUpdates(updates: Update[]): Promise<void>;
}

export type PollerState = 'idle' | 'standby' | 'polling' | 'backoff' | 'stopped';

export class TelegramPoller {
  readonly #o: TelegramPollerOptions;
  #state: PollerState = 'idle';
  #offset: number | undefined;
  #loop: Promise<void> | undefined;
  #abort = new AbortController();
  #lease: Lease | undefined;
  #lastError: string | undefined;
  /** getUpdates calls that returned (tests, metrics). */
  polls = 0;

  constructor(opts: TelegramPollerOptions) {
    this.#o = opts;
  }

  get state(): PollerState {
    return this.#state;
  }

  /** Next offset to ask for: one past the last update handed to the hub. */
  get offset(): number | undefined {
    return this.#offset;
  }

  start(): void {
    if (this.#loop) return;
    this.#abort = new AbortController();
    this.#loop = this.#run().catch((err: unknown) => {
      this.#o.logger.error({ err }, 'telegram poller crashed');
      this.#state = 'stopped';
    });
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    this.#loop = undefined;
    await this.#lease?.release();
    this.#lease = undefined;
    this.#state = 'stopped';
  }

  health(): { ok: boolean; detail: string } {
    const ok = this.#state === 'polling' || this.#state === 'standby';
    return { ok, detail: this.#lastError && !ok ? `${this.#state}: ${this.#lastError}` : this.#state };
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let failures = 0;
    let prepared = false;
    while (!signal.aborted) {
      if (!this.#lease?.held) {
        prepared = false;
        this.#lease =
          (await Lease.tryAcquire({
            redis: this.#o.redis,
            key: this.#o.leaseKey,
            ttlMs: this.#o.leaseTtlMs,
            onLost: (reason) => this.#o.logger.warn({ reason }, 'telegram polling lease lost'),
          }).catch(() => null)) ?? undefined;
        if (!this.#lease) {
          this.#state = 'standby';
          await sleep(Math.max(100, Math.floor(this.#o.leaseTtlMs / 3)), signal);
          continue;
        }
      }
      try {
        if (!prepared) {
          await this.#o.beforePolling?.(signal);
          prepared = true;
        }
        this.#state = 'polling';
        const updates = await this.#poll(signal);
        this.polls++;
        failures = 0;
        this.#lastError = undefined;
        if (updates.length === 0) continue;
        await this.#o.onUpdates(updates);
        // Only now: the next getUpdates with this offset tells Telegram it may forget the batch.
        this.#offset = Math.max(...updates.map((u) => u.update_id)) + 1;
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        this.#lastError = errorMessage(err);
        this.#state = 'backoff';
        await sleep(this.#delayAfter(err, failures), signal);
      }
    }
  }

  #poll(signal: AbortSignal): Promise<Update[]> {
    const timeoutMs = this.#o.timeoutSec * 1000 + this.#o.requestTimeoutMs;
    return this.#o.telegram.callApi(
      'getUpdates',
      { offset: this.#offset, limit: this.#o.limit, timeout: this.#o.timeoutSec },
      { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) as never },
    );
  }

  #delayAfter(err: unknown, failures: number): number {
    const { logger, backoffMinMs, backoffMaxMs } = this.#o;
    if (err instanceof TelegramError && err.code === 429 && typeof err.parameters?.retry_after === 'number') {
      logger.warn({ retryAfter: err.parameters.retry_after }, 'telegram getUpdates: flood control');
      return err.parameters.retry_after * 1000;
    }
    if (err instanceof TelegramError && err.code === 409) {
      logger.warn(
        { err: err.description },
        'telegram getUpdates: conflict (a webhook is set or another poller runs)',
      );
    } else {
      logger.warn({ err: errorMessage(err), failures }, 'telegram getUpdates failed; backing off');
    }
    const exp = Math.min(backoffMaxMs, backoffMinMs * 2 ** (failures - 1));
    return exp / 2 + Math.random() * (exp / 2);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
