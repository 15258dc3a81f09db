/**
 * Start a real hub for a test: real Redis (unique key prefix), the real store (PGlite in a temp
 * dir, or a throwaway PostgreSQL database with `database: 'pg'`), a temp config directory with
 * fast queue timings, HTTP on a random port. `stop()` removes everything it created.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { readEnv } from '../../src/config/env.ts';
import { type HubOptions, type Role, type RunningHub, startHub } from '../../src/hub.ts';
import { createLogger } from '../../src/log.ts';
import { createTestDatabase } from './pg.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const REPO_CONFIG_DIR = join(import.meta.dirname, '..', '..', 'config');

/** Queue settings that make crash recovery observable within a test's patience. */
export const FAST_QUEUE_YAML = `queue:
  partitions: 4
  backoff: 50ms
  lockDuration: 2s
  partitionLease: 1500ms
`;

export interface TestHubOptions {
  role?: Role;
  /** Full hub.yaml text; default: web channel + FAST_QUEUE_YAML. */
  hubYaml?: string;
  /** Workflow files by name; default: a copy of the repo's config/workflows. */
  workflows?: Record<string, string>;
  database?: 'pglite' | 'pg';
  /** Share another hub's prefix/config/database (multi-process tests). */
  shareWith?: TestHub;
  env?: Record<string, string>;
  channelTypes?: HubOptions['channelTypes'];
  stepKinds?: HubOptions['stepKinds'];
}

export interface TestHub {
  hub: RunningHub;
  url: string;
  prefix: string;
  configDir: string;
  databaseUrl?: string;
  redis: Redis;
  post(path: string, body: unknown): Promise<{ status: number; body: any }>;
  writeWorkflow(name: string, text: string): void;
  stop(): Promise<void>;
}

export async function startTestHub(opts: TestHubOptions = {}): Promise<TestHub> {
  const shared = opts.shareWith;
  const prefix = shared?.prefix ?? `t${randomBytes(5).toString('hex')}`;
  const root = mkdtempSync(join(tmpdir(), 'switchboard-test-'));
  const configDir = shared?.configDir ?? join(root, 'config');
  let dropDatabase: (() => Promise<void>) | undefined;
  let databaseUrl = shared?.databaseUrl;
  if (!shared) {
    mkdirSync(join(configDir, 'workflows'), { recursive: true });
    writeFileSync(
      join(configDir, 'hub.yaml'),
      opts.hubYaml ?? `channels:\n  - { id: web, type: web }\n${FAST_QUEUE_YAML}`,
    );
    if (opts.workflows) {
      for (const [name, text] of Object.entries(opts.workflows))
        writeFileSync(join(configDir, 'workflows', name), text);
    } else {
      cpSync(join(REPO_CONFIG_DIR, 'workflows'), join(configDir, 'workflows'), { recursive: true });
    }
    if ((opts.database ?? defaultDatabase()) === 'pg') {
      const db = await createTestDatabase();
      databaseUrl = db.url;
      dropDatabase = db.drop;
    }
  }
  const env = readEnv({
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL,
    DATA_DIR: join(root, 'data'),
    CONFIG_DIR: configDir,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...opts.env,
  });
  const hub = await startHub({
    role: opts.role ?? 'all',
    env,
    logger: createLogger(env.LOG_LEVEL),
    channelTypes: opts.channelTypes,
    stepKinds: opts.stepKinds,
  });
  const redis = new Redis(REDIS_URL);
  const url = hub.url ?? '';
  return {
    hub,
    url,
    prefix,
    configDir,
    databaseUrl,
    redis,
    post: (path, body) => postJson(`${url}${path}`, body),
    writeWorkflow: (name, text) => writeFileSync(join(configDir, 'workflows', name), text),
    async stop() {
      await hub.stop();
      if (!shared) {
        await deleteKeys(redis, `${prefix}:*`);
        await dropDatabase?.();
      }
      redis.disconnect();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** CI sets DATABASE_URL: then hubs run on PostgreSQL unless a test asks for PGlite. */
function defaultDatabase(): 'pg' | 'pglite' {
  return process.env.DATABASE_URL ? 'pg' : 'pglite';
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed };
}

export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** Poll until `fn` returns a truthy value or the deadline passes (then throw with `what`). */
export async function eventually<T>(
  fn: () => Promise<T> | T,
  what: string,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
