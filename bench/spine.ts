/**
 * Spine benchmark: web messages through POST /v1/chat/send → inbound queue → workflow → outbound
 * queue → reply on the session's SSE stream, against raw BullMQ on the same Redis in the same run:
 *
 *   - raw 1-hop: one queue, add + no-op worker with `partitions` concurrency (BullMQ's ceiling);
 *   - raw 2-hop: the spine's queue topology without the hub — `partitions` inbound and outbound
 *     queues, one worker each at concurrency 1, the inbound processor adding the outbound job.
 *
 * Two spine measurements: throughput (all messages at once, closed loop: latency there is mostly
 * backlog) and latency at a fixed rate of half that throughput (open loop: what a visitor waits).
 * Per message it also counts Redis commands (private Redis only) and PostgreSQL commits.
 *
 *   npm run bench:spine                               # 2,000 messages, 50 sessions, 16 partitions
 *   BENCH_STORE=pglite npm run bench:spine            # the embedded store instead of PostgreSQL
 *   BENCH_REDIS=shared npm run bench:spine            # REDIS_URL instead of a private redis-server
 *
 * Defaults: PostgreSQL (a throwaway database on TEST_DATABASE_URL/DATABASE_URL's server, else
 * 127.0.0.1) and a private redis-server with AOF every second — the production settings.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { readEnv } from '../src/config/env.ts';
import { type RunningHub, startHub } from '../src/hub.ts';
import { createLogger } from '../src/log.ts';
import { type PrivateRedis, startPrivateRedis } from '../test/fakes/chaos-cluster.ts';
import { deleteKeys, REDIS_URL } from '../test/helpers/hub.ts';
import { createTestDatabase, type TestDatabase } from '../test/helpers/pg.ts';
import { openSse, type SseStream } from '../test/helpers/sse.ts';
import { emit, quantile, round } from './stats.ts';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 2000);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 50);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 16);
const STORE = process.env.BENCH_STORE ?? 'pg';
const PRIVATE_REDIS = (process.env.BENCH_REDIS ?? 'private') === 'private';
const LATENCY_MESSAGES = Number(process.env.BENCH_LATENCY_MESSAGES ?? 400);

async function rawOneHop(redisUrl: string, prefix: string): Promise<number> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('raw1', { connection, prefix });
  let done = 0;
  const allDone = new Promise<void>((resolve) => {
    const worker = new Worker('raw1', async () => {}, { connection, prefix, concurrency: PARTITIONS });
    worker.on('completed', () => {
      if (++done === MESSAGES) resolve();
    });
    cleanup.push(() => worker.close());
  });
  const started = performance.now();
  await produce(SESSIONS, (i) =>
    queue.add('job', { i, text: `message ${i}` }, { jobId: `r1-${i}`, removeOnComplete: true }),
  );
  await allDone;
  const seconds = (performance.now() - started) / 1000;
  await queue.close();
  connection.disconnect();
  return MESSAGES / seconds;
}

async function rawTwoHop(redisUrl: string, prefix: string): Promise<number> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const range = Array.from({ length: PARTITIONS }, (_, p) => p);
  const inbound = range.map((p) => new Queue(`raw-in-${p}`, { connection, prefix }));
  const outbound = range.map((p) => new Queue(`raw-out-${p}`, { connection, prefix }));
  let done = 0;
  let finish: () => void = () => {};
  const allDone = new Promise<void>((r) => (finish = r));
  const workers = range.flatMap((p) => [
    new Worker(
      `raw-in-${p}`,
      async (job) =>
        void (await outbound[p]!.add('send', job.data, { jobId: `o-${job.id}`, removeOnComplete: true })),
      { connection, prefix, concurrency: 1 },
    ),
    new Worker(`raw-out-${p}`, async () => {}, { connection, prefix, concurrency: 1 }),
  ]);
  for (const w of workers.filter((_, i) => i % 2 === 1))
    w.on('completed', () => ++done === MESSAGES && finish());
  const started = performance.now();
  await produce(SESSIONS, (i) =>
    inbound[i % PARTITIONS]!.add(
      'msg',
      { i, text: `message ${i}` },
      { jobId: `r2-${i}`, removeOnComplete: true },
    ),
  );
  await allDone;
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all([...inbound, ...outbound].map((q) => q.close()));
  connection.disconnect();
  return MESSAGES / seconds;
}

/** `MESSAGES` calls of `fn`, `concurrency` at a time (like that many clients). */
async function produce(concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < MESSAGES; i = next++) await fn(i);
    }),
  );
}

interface Spine {
  hub: RunningHub;
  sessions: string[];
  streams: SseStream[];
  send(session: number, text: string): Promise<{ messageId: string; at: number }>;
  /** performance.now() of the reply to each message id, once it arrived. */
  replyAt(messageId: string): number | undefined;
}

async function startSpine(redisUrl: string, prefix: string, databaseUrl: string | undefined): Promise<Spine> {
  const root = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
  cleanup.push(async () => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'config', 'workflows'), { recursive: true });
  writeFileSync(
    join(root, 'config', 'hub.yaml'),
    `channels:\n  - { id: web, type: web }\nqueue:\n  partitions: ${PARTITIONS}\n`,
  );
  writeFileSync(
    join(root, 'config', 'workflows', 'echo.yaml'),
    'name: echo\ndefault: true\nsteps:\n  - reply: "echo: {{ message.text }}"\n',
  );
  const env = readEnv({
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: redisUrl,
    CONFIG_DIR: join(root, 'config'),
    DATA_DIR: join(root, 'data'),
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  const hub = await startHub({ role: 'all', env, logger: createLogger('silent') });
  cleanup.unshift(() => hub.stop());
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${hub.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return res.json() as Promise<Record<string, string>>;
  };
  const sessions: string[] = [];
  for (let s = 0; s < SESSIONS; s++) sessions.push((await post('/v1/chat/create', {})).session_id as string);
  const streams = await Promise.all(
    sessions.map((id) => openSse(`${hub.url}/v1/chat/events?session_id=${id}`)),
  );
  cleanup.unshift(async () => {
    for (const sse of streams) sse.close();
  });
  let counter = 0;
  return {
    hub,
    sessions,
    streams,
    async send(session, text) {
      const at = performance.now();
      const res = await post('/v1/chat/send', {
        session_id: sessions[session],
        text,
        client_msg_id: `${counter++}`,
      });
      return { messageId: res.message_id as string, at };
    },
    replyAt(messageId) {
      for (const sse of streams) {
        const e = sse.events.find((x) => x.event === 'message' && x.data.in_reply_to === messageId);
        if (e) return e.at;
      }
      return undefined;
    },
  };
}

/** Closed loop: every message as fast as the API takes them; msgs/s until the last reply. */
async function saturate(spine: Spine): Promise<{ msgsPerSec: number; p50Ms: number; p99Ms: number }> {
  const sent = new Map<string, number>();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    spine.sessions.map(async (_, s) => {
      for (let i = next++; i < MESSAGES; i = next++) {
        const { messageId, at } = await spine.send(s, `message ${i}`);
        sent.set(messageId, at);
      }
    }),
  );
  const latencies = await collect(spine, sent);
  const last = Math.max(...[...sent.keys()].map((id) => spine.replyAt(id) ?? 0));
  return {
    msgsPerSec: MESSAGES / ((last - started) / 1000),
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}

/** Open loop: one message every 1/rate s, round-robin over the sessions; latency of each. */
async function atRate(spine: Spine, rate: number): Promise<{ p50Ms: number; p99Ms: number }> {
  const sent = new Map<string, number>();
  const pending: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < LATENCY_MESSAGES; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      spine.send(i % SESSIONS, `paced ${i}`).then(({ messageId, at }) => void sent.set(messageId, at)),
    );
  }
  await Promise.all(pending);
  const latencies = await collect(spine, sent);
  return { p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99) };
}

async function collect(spine: Spine, sent: Map<string, number>): Promise<number[]> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const latencies = [...sent].map(([id, at]) => (spine.replyAt(id) ?? Number.NaN) - at);
    if (latencies.every((l) => !Number.isNaN(l))) return latencies.sort((a, b) => a - b);
    if (Date.now() > deadline) throw new Error('replies missing after 5 minutes');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function redisCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  return [...info.matchAll(/calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}

async function pgCommits(db: TestDatabase | undefined): Promise<number> {
  if (!db) return Number.NaN;
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(rows[0]?.xact_commit);
  } finally {
    await client.end();
  }
}

const cleanup: (() => Promise<unknown>)[] = [];

async function main(): Promise<void> {
  let privateRedis: PrivateRedis | undefined;
  if (PRIVATE_REDIS) privateRedis = await startPrivateRedis();
  const redisUrl = privateRedis?.url ?? REDIS_URL;
  const prefix = `bench${randomBytes(4).toString('hex')}`;
  const redis = new Redis(redisUrl);
  const db = STORE === 'pg' ? await createTestDatabase() : undefined;
  try {
    const oneHop = await rawOneHop(redisUrl, prefix);
    const twoHop = await rawTwoHop(redisUrl, prefix);
    const spine = await startSpine(redisUrl, prefix, db?.url);
    // Warm-up (JIT, pools), then counters, then the measured runs.
    for (let i = 0; i < 100; i++) await spine.send(i % SESSIONS, `warm ${i}`);
    const [calls0, commits0] = [await redisCalls(redis), await pgCommits(db)];
    const cpu0 = process.cpuUsage();
    const saturated = await saturate(spine);
    const cpu = process.cpuUsage(cpu0);
    const [calls1, commits1] = [await redisCalls(redis), await pgCommits(db)];
    const paced = await atRate(spine, Math.max(1, Math.floor(saturated.msgsPerSec / 2)));
    emit({
      bench: 'spine',
      messages: MESSAGES,
      sessions: SESSIONS,
      partitions: PARTITIONS,
      store: spine.hub.store.driver,
      redis: privateRedis ? 'private, AOF everysec' : 'shared',
      msgsPerSec: round(saturated.msgsPerSec),
      saturatedP50Ms: round(saturated.p50Ms),
      saturatedP99Ms: round(saturated.p99Ms),
      pacedRate: Math.max(1, Math.floor(saturated.msgsPerSec / 2)),
      p50Ms: round(paced.p50Ms, 1),
      p99Ms: round(paced.p99Ms, 1),
      // The baseline the issue names: raw BullMQ add + no-op worker, same Redis, same run.
      baselineJobsPerSec: round(oneHop),
      rawTwoHopMsgsPerSec: round(twoHop),
      ratio: round(saturated.msgsPerSec / oneHop, 3),
      ratioTwoHop: round(saturated.msgsPerSec / twoHop, 3),
      // Measured around the saturated phase; the bench's own HTTP and SSE clients run in this process too.
      cpuMsPerMessage: round((cpu.user + cpu.system) / 1000 / MESSAGES, 2),
      redisCommandsPerMessage: privateRedis ? round((calls1 - calls0) / MESSAGES, 1) : null,
      pgCommitsPerMessage: db ? round((commits1 - commits0) / MESSAGES, 1) : null,
    });
  } finally {
    for (const fn of cleanup.splice(0)) await fn().catch(() => {});
    await deleteKeys(redis, `${prefix}:*`).catch(() => {});
    redis.disconnect();
    await db?.drop();
    await privateRedis?.dispose();
  }
}

await main();
