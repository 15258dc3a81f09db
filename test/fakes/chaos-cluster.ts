/**
 * A hub cluster for chaos tests and benchmarks: a temp config directory (the test-only `loopback`
 * channel wired to a fake platform), a throwaway PostgreSQL database, a unique Redis prefix, and
 * hub processes started as children — `switchboard start --role …`, exactly as an operator would.
 * Optionally a private redis-server (AOF on, its own port and directory) the test may restart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { deleteKeys, REDIS_URL, type TestHub } from '../helpers/hub.ts';
import { createTestDatabase } from '../helpers/pg.ts';
import { type HubProcess, spawnHubProcess } from '../helpers/processes.ts';
import { sleep } from './chaos-load.ts';
import { type ChaosPlatform, startChaosPlatform } from './chaos-platform.ts';

export const CHANNEL_ID = 'lb';
export const TOKEN = 'chaos-token';

export interface ClusterOptions {
  workflows: Record<string, string>;
  /** hub.yaml after the channel block (queue, breaker … settings). */
  settingsYaml?: string;
  redisUrl?: string;
  /** Child log level; `warn` keeps the pipes quiet under load. */
  logLevel?: string;
}

export interface HubChild {
  role: 'ingress' | 'worker' | 'all';
  proc: HubProcess;
  pid: number;
  /** HTTP base URL (ingress: everything; worker: health and metrics). */
  url: string;
  exited: Promise<number | null>;
}

export interface ChaosCluster {
  prefix: string;
  configDir: string;
  databaseUrl: string;
  redisUrl: string;
  platform: ChaosPlatform;
  redis: Redis;
  children: HubChild[];
  spawn(role: HubChild['role'], env?: Record<string, string>): Promise<HubChild>;
  /** URLs of the ingress processes that have not exited. */
  ingressUrls(): string[];
  /** Worker processes registered in Redis right now. */
  liveWorkers(): Promise<number>;
  stop(): Promise<void>;
}

export const DEFAULT_SETTINGS = `queue:
  partitions: 8
  backoff: 100ms
  outboundAttempts: 15
  lockDuration: 3s
  partitionLease: 2s
breaker:
  consecutiveFailures: 5
  halfOpenAfter: 1s
`;

export async function startChaosCluster(opts: ClusterOptions): Promise<ChaosCluster> {
  const root = mkdtempSync(join(tmpdir(), 'switchboard-chaos-'));
  const configDir = join(root, 'config');
  mkdirSync(join(configDir, 'workflows'), { recursive: true });
  const platform = await startChaosPlatform();
  writeFileSync(
    join(configDir, 'hub.yaml'),
    `channels:\n  - { id: ${CHANNEL_ID}, type: loopback, url: "${platform.url}", token: ${TOKEN} }\n${opts.settingsYaml ?? DEFAULT_SETTINGS}`,
  );
  for (const [name, text] of Object.entries(opts.workflows))
    writeFileSync(join(configDir, 'workflows', name), text);
  const db = await createTestDatabase();
  const prefix = `chaos${randomBytes(4).toString('hex')}`;
  const redisUrl = opts.redisUrl ?? REDIS_URL;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null, retryStrategy: () => 200 });
  redis.on('error', () => {});
  const children: HubChild[] = [];
  const exitedPids = new Set<number>();
  // spawnHubProcess reads only the prefix, the config directory and the database of a TestHub.
  const base = { prefix, configDir, databaseUrl: db.url } as Pick<
    TestHub,
    'prefix' | 'configDir' | 'databaseUrl'
  >;

  const cluster: ChaosCluster = {
    prefix,
    configDir,
    databaseUrl: db.url,
    redisUrl,
    platform,
    redis,
    children,
    async spawn(role, env = {}) {
      const proc = spawnHubProcess(base as TestHub, role, {
        REDIS_URL: redisUrl,
        SWITCHBOARD_TEST_CHANNELS: '1',
        LOG_LEVEL: opts.logLevel ?? 'warn',
        ...env,
      });
      const pid = proc.child.pid ?? -1;
      void proc.exited.then(() => exitedPids.add(pid));
      const url = await waitForListening(proc, 60_000);
      const child: HubChild = { role, proc, pid, url, exited: proc.exited };
      children.push(child);
      return child;
    },
    ingressUrls: () =>
      children.filter((c) => c.role !== 'worker' && !exitedPids.has(c.pid)).map((c) => c.url),
    liveWorkers: () => redis.zcard(`${prefix}:workers`),
    async stop() {
      for (const c of children) if (!exitedPids.has(c.pid)) c.proc.child.kill('SIGKILL');
      await Promise.all(children.map((c) => Promise.race([c.exited, sleep(5000)])));
      await deleteKeys(redis, `${prefix}:*`).catch(() => {});
      redis.disconnect();
      await platform.close();
      await db.drop();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** Resolve with the URL the child prints once it listens (`switchboard: listening on …`). */
function waitForListening(proc: HubProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(proc.output());
      if (match?.[1]) {
        clearInterval(poll);
        resolve(match[1]);
      } else if (proc.child.exitCode !== null || Date.now() - started > timeoutMs) {
        clearInterval(poll);
        reject(new Error(`hub process did not start listening:\n${proc.output().slice(-3000)}`));
      }
    }, 50);
  });
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** Kill (SIGKILL unless told otherwise) and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Start again on the same port and directory (the AOF brings the data back). */
  start(): Promise<void>;
  /** Stop for good and remove the directory. */
  dispose(): Promise<void>;
}

/**
 * A redis-server of the test's own, configured as docs/operations.md asks of production
 * (AOF everysec, noeviction), on a spare port, with its own directory. The machine's Redis is
 * never touched.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-redis-'));
  let proc: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  const self: PrivateRedis = {
    url,
    port,
    async start() {
      proc = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--appendonly',
          'yes',
          '--appendfsync',
          'everysec',
          '--maxmemory-policy',
          'noeviction',
          '--save',
          '',
        ],
        { stdio: 'ignore' },
      );
      const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      probe.on('error', () => {});
      for (let i = 0; i < 100; i++) {
        try {
          await probe.connect();
          // Loading the AOF answers -LOADING until done: wait for a real PONG.
          if ((await probe.ping()) === 'PONG') break;
        } catch {
          probe.disconnect();
        }
        await sleep(100);
      }
      probe.disconnect();
    },
    async stop(signal = 'SIGKILL') {
      const current = proc;
      if (!current || current.exitCode !== null) return;
      const exited = new Promise((r) => current.once('exit', r));
      current.kill(signal);
      await exited;
    },
    async dispose() {
      await self.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await self.start();
  return self;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
