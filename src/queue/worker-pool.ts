/**
 * BullMQ workers for the partitions this process owns: one inbound and one outbound worker per
 * partition, each with concurrency 1 (the ordering guarantee). The partition assigner decides
 * which partitions; this class starts and stops their workers.
 */
import { type MinimalJob, type Processor, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { QueueConfig } from '../config/hub-schema.ts';
import type { InboundJobData, InboundJobResult, OutboundJobData } from './job-types.ts';
import { inboundQueueName, outboundQueueName } from './names.ts';
import type { HubQueues } from './queues.ts';

export interface WorkerPoolOptions {
  connection: Redis;
  prefix: string;
  config: QueueConfig;
  queues: HubQueues;
  logger: Logger;
  inbound: Processor<InboundJobData, InboundJobResult>;
  outbound: Processor<OutboundJobData, unknown>;
}

/**
 * Outbound retry delay: what the platform asked for (Telegram `retry_after`, HTTP 429), else
 * exponential from the configured base. Used through the job's `backoff.type: 'retry-after'`.
 */
export function retryAfterBackoff(
  attemptsMade: number,
  _type: string | undefined,
  err: Error | undefined,
  job: MinimalJob | undefined,
): number {
  const retryAfterSec = (err as { retryAfterSec?: number } | undefined)?.retryAfterSec;
  if (retryAfterSec && retryAfterSec > 0) return retryAfterSec * 1000;
  const base = typeof job?.opts.backoff === 'object' ? (job.opts.backoff.delay ?? 1000) : 1000;
  return base * 2 ** Math.max(0, attemptsMade - 1);
}

export class WorkerPool {
  private readonly running = new Map<number, Worker[]>();

  constructor(private readonly opts: WorkerPoolOptions) {}

  /** Start consuming partition p, after any job a dead previous owner left active is recovered. */
  startPartition(p: number): void {
    if (this.running.has(p)) return;
    const workers = [
      this.makeWorker(inboundQueueName(p), this.opts.inbound),
      this.makeWorker(outboundQueueName(p), this.opts.outbound),
    ];
    this.running.set(p, workers);
    void this.runWhenRecovered(p, workers);
  }

  /**
   * Stop inbound first (its in-flight job finishes), then give the replies it just queued a short
   * chance to go out before the outbound worker stops too — a drained worker leaves no visitor
   * waiting for the next process to come up. Whatever is left stays queued for the next owner.
   */
  async stopPartition(p: number, flushMs = 5000): Promise<void> {
    const workers = this.running.get(p);
    if (!workers) return;
    this.running.delete(p);
    const [inbound, outbound] = workers as [Worker, Worker];
    await inbound.close();
    const queue = this.opts.queues.outboundQueue(p);
    const deadline = Date.now() + flushMs;
    while (outbound.isRunning() && Date.now() < deadline) {
      const pending = await queue.getJobCountByTypes('wait', 'active', 'prioritized').catch(() => 0);
      if (pending === 0) break;
      await sleep(50);
    }
    await outbound.close();
  }

  partitions(): number[] {
    return [...this.running.keys()];
  }

  async close(): Promise<void> {
    await Promise.all([...this.running.keys()].map((p) => this.stopPartition(p)));
  }

  private makeWorker(name: string, processor: Processor<any, any>): Worker {
    const { connection, prefix, config, logger } = this.opts;
    const worker = new Worker(name, processor, {
      connection,
      prefix,
      concurrency: 1,
      autorun: false,
      lockDuration: config.lockDuration,
      stalledInterval: Math.max(500, Math.floor(config.lockDuration / 2)),
      maxStalledCount: 3,
      settings: { backoffStrategy: retryAfterBackoff },
    });
    worker.on('error', (err) => logger.warn({ err: err.message, queue: name }, 'worker error'));
    worker.on('stalled', (jobId) => logger.warn({ jobId, queue: name }, 'job stalled; it will be run again'));
    return worker;
  }

  /**
   * A job left "active" by a crashed owner must run again before anything behind it, or a
   * conversation's order breaks. The stalled checker moves it back to the head of the wait list
   * once its lock expires; only then does this worker start taking jobs.
   */
  private async runWhenRecovered(p: number, workers: Worker[]): Promise<void> {
    const queues = [this.opts.queues.inboundQueue(p), this.opts.queues.outboundQueue(p)];
    try {
      await Promise.all(workers.map((w) => w.startStalledCheckTimer()));
      for (;;) {
        if (this.running.get(p) !== workers) return; // stopped meanwhile
        const active = await Promise.all(queues.map((q) => q.getActiveCount()));
        if (active.every((n) => n === 0)) break;
        await sleep(Math.min(500, Math.floor(this.opts.config.lockDuration / 4)));
      }
      for (const w of workers) {
        w.run().catch((err: unknown) =>
          this.opts.logger.error({ err, partition: p }, 'worker stopped with an error'),
        );
      }
    } catch (err) {
      this.opts.logger.error({ err, partition: p }, 'could not start partition workers');
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
