/**
 * Memory per open web chat session over WebSocket: an ingress process (this one) before and after
 * 10,000 visitors (another process) each opened a session and a live WebSocket (subscribed to
 * their conversation's events). Heap is measured after a full GC; RSS is the process's.
 *
 *   npm run bench:ws                       # 10,000 sessions
 *   BENCH_SESSIONS=2000 npm run bench:ws
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import { readEnv } from '../src/config/env.ts';
import { startHub } from '../src/hub.ts';
import { createLogger } from '../src/log.ts';
import { deleteKeys, REDIS_URL } from '../test/helpers/hub.ts';
import { createTestDatabase } from '../test/helpers/pg.ts';
import { emit, round } from './stats.ts';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10_000);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 200));
  }
  return process.memoryUsage();
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'switchboard-bench-ws-'));
  mkdirSync(join(root, 'config', 'workflows'), { recursive: true });
  writeFileSync(join(root, 'config', 'hub.yaml'), 'channels:\n  - { id: web, type: web }\n');
  writeFileSync(
    join(root, 'config', 'workflows', 'echo.yaml'),
    'name: echo\ndefault: true\nsteps:\n  - reply: "ok"\n',
  );
  const db = await createTestDatabase();
  const prefix = `benchws${randomBytes(4).toString('hex')}`;
  const env = readEnv({
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL,
    DATABASE_URL: db.url,
    CONFIG_DIR: join(root, 'config'),
    DATA_DIR: join(root, 'data'),
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'silent',
  });
  const hub = await startHub({ role: 'ingress', env, logger: createLogger('silent') });
  const redis = new Redis(REDIS_URL);
  try {
    // A few sessions first, so lazily built things (routes, pools, JIT) are not counted per session.
    await runClients(hub.url!, 200);
    const before = await settledMemory();
    const clients = spawn(
      process.execPath,
      [...process.execArgv, join(import.meta.dirname, 'ws-clients.ts'), hub.url!, String(SESSIONS)],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const ready = await new Promise<{ open: number; ms: number }>((resolve, reject) => {
      let out = '';
      clients.stdout.on('data', (d) => {
        out += d;
        const m = /READY (\d+) (\d+)/.exec(out);
        if (m) resolve({ open: Number(m[1]), ms: Number(m[2]) });
      });
      clients.once('exit', (code) => reject(new Error(`clients exited with ${code}`)));
    });
    const after = await settledMemory();
    // Every socket must hold a live subscription to its conversation's events.
    const subscriptions = (await redis.pubsub('CHANNELS', `${prefix}:conv:*`)) as string[];
    clients.stdin.end();
    await new Promise((r) => clients.once('exit', r));
    const per = (key: keyof NodeJS.MemoryUsage) => round((after[key] - before[key]) / ready.open, 0);
    emit({
      bench: 'ws-sessions',
      sessions: ready.open,
      subscribedChannels: subscriptions.length,
      openMs: ready.ms,
      heapBytesPerSession: per('heapUsed'),
      externalBytesPerSession: per('external'),
      rssBytesPerSession: per('rss'),
      heapMbFor10k: round((((after.heapUsed - before.heapUsed) / ready.open) * 10_000) / 2 ** 20, 1),
      rssMbFor10k: round((((after.rss - before.rss) / ready.open) * 10_000) / 2 ** 20, 1),
      rssMbTotal: round(after.rss / 2 ** 20, 1),
    });
  } finally {
    await hub.stop();
    await deleteKeys(redis, `${prefix}:*`);
    redis.disconnect();
    await db.drop();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Open and close `n` sessions once (warm-up). */
async function runClients(url: string, n: number): Promise<void> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, join(import.meta.dirname, 'ws-clients.ts'), url, String(n)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (d) => String(d).includes('READY') && resolve()),
  );
  child.stdin.end();
  await new Promise((r) => child.once('exit', r));
}

await main();
