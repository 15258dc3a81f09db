/**
 * Queue depth for /metrics: jobs per queue and state (waiting, prioritized, paused, active,
 * delayed, failed), read when Prometheus scrapes — one pipelined round trip of LLEN/ZCARD over
 * every queue's keys, not an await per queue, so a scrape costs one Redis round trip however many
 * partitions there are. Every key of a queue shares the queue's prefix, so on Cluster (hash-tagged
 * prefix) the whole pipeline goes to one node.
 *
 * Every process that serves /metrics reports the same numbers (they are Redis's, not the
 * process's): aggregate with `max by (queue, state)`, never `sum`.
 */
import type { Redis } from 'ioredis';
import { Gauge } from 'prom-client';
import { registry } from '../metrics.ts';

/** BullMQ key suffix → how to count it (see bullmq's `QueueKeys`). */
const STATES = [
  ['waiting', 'wait', 'llen'],
  ['paused', 'paused', 'llen'],
  ['active', 'active', 'llen'],
  ['prioritized', 'prioritized', 'zcard'],
  ['delayed', 'delayed', 'zcard'],
  ['failed', 'failed', 'zcard'],
] as const;

export type QueueJobState = (typeof STATES)[number][0];

export interface QueueDepthSource {
  redis: Redis;
  /** BullMQ prefix (QUEUE_PREFIX). */
  prefix: string;
  /** Queue names, e.g. `inbound-0`. */
  queues: string[];
}

/** Longest a scrape waits for Redis; a down Redis must not hang /metrics. */
const SCRAPE_TIMEOUT_MS = 1000;

const sources = new Set<QueueDepthSource>();

new Gauge({
  name: 'switchboard_queue_jobs',
  help: 'Jobs per queue and state (waiting, prioritized, paused, active, delayed, failed), read from Redis at scrape time',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    // Redis unreachable: no numbers rather than stale ones; switchboard_queue_scrape_ok says why.
    const rows = await readAllSources();
    for (const [queue, state, count] of rows ?? []) this.set({ queue, state }, count);
  },
});

new Gauge({
  name: 'switchboard_queue_scrape_ok',
  help: '1 when this scrape could read queue depths from Redis, else 0',
  registers: [registry],
  async collect() {
    this.set((await readAllSources()) ? 1 : 0);
  },
});

let inflight: Promise<[string, QueueJobState, number][] | undefined> | undefined;

/** One read per scrape, shared by both gauges (prom-client collects them concurrently). */
function readAllSources(): Promise<[string, QueueJobState, number][] | undefined> {
  inflight ??= (async () => {
    try {
      const all = await Promise.all([...sources].map((source) => readQueueDepth(source)));
      return all.flat();
    } catch {
      return undefined;
    } finally {
      inflight = undefined;
    }
  })();
  return inflight;
}

/** Report `source`'s queues on every scrape until the returned function is called. */
export function reportQueueDepth(source: QueueDepthSource): () => void {
  sources.add(source);
  return () => {
    sources.delete(source);
  };
}

/** `[queue, state, count]` for every queue of `source`, in one pipelined round trip. */
export async function readQueueDepth(source: QueueDepthSource): Promise<[string, QueueJobState, number][]> {
  // A buffering connection would queue the commands until Redis is back: fail the scrape instead.
  if (source.redis.status !== 'ready') throw new Error(`redis connection is ${source.redis.status}`);
  const pipeline = source.redis.pipeline();
  for (const queue of source.queues) {
    for (const [, suffix, command] of STATES) pipeline[command](`${source.prefix}:${queue}:${suffix}`);
  }
  const replies = await withTimeout(pipeline.exec(), SCRAPE_TIMEOUT_MS);
  const rows: [string, QueueJobState, number][] = [];
  let i = 0;
  for (const queue of source.queues) {
    for (const [state] of STATES) {
      const [err, value] = replies?.[i++] ?? [new Error('no reply')];
      if (err) throw err;
      rows.push([queue, state, Number(value)]);
    }
  }
  return rows;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
