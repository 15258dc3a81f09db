/**
 * Redis connections. Two flavours, because the two sides want opposite things when Redis blips:
 * - `ingress`: fail fast (no offline queue), so a webhook gets a 503 and the platform retries,
 *   instead of a request hanging while ioredis buffers commands it may run much later.
 * - `worker`: wait forever (`maxRetriesPerRequest: null`, as BullMQ workers require) and resume
 *   by themselves when Redis is back.
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

export type RedisRole = 'ingress' | 'worker';

/**
 * A connection of `role` to a standalone Redis (a URL), a Sentinel-managed master or a Cluster
 * (a `RedisTarget` built by `redisTargetFromEnv`).
 */
export function createRedis(target: string | RedisTarget, role: RedisRole, extra: RedisOptions = {}): Redis {
  const common: RedisOptions = {
    connectionName: `switchboard-${role}-${process.pid}`,
    // Reconnect forever with a capped backoff; the role decides what happens to commands meanwhile.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  };
  const byRole: RedisOptions =
    role === 'ingress'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 }
      : { enableOfflineQueue: true, maxRetriesPerRequest: null };
  if (typeof target === 'string') return new Redis(target, { ...common, ...byRole, ...extra });
  return connectPlan(planRedisConnection(target, { ...common, ...byRole, ...extra }));
}

/**
 * Cluster speaks the same command API as Redis; the hub's code never relies on what only a single
 * node has (every multi-key command stays inside one hash-tagged prefix), hence the cast.
 */
function connectPlan(plan: RedisConnectionPlan): Redis {
  if (plan.kind === 'cluster') return new Cluster(plan.nodes, plan.options) as unknown as Redis;
  return new Redis(plan.options);
}

/** Thrown by `checkRedis` with a message meant to be printed as the single line of a failed start. */
export class RedisUnreachableError extends Error {}

/**
 * Connect once, with a deadline, and report what the hub needs to know. Used at start so an
 * unreachable Redis is one clear line within seconds rather than a hang or a stack trace.
 */
export async function checkRedis(
  target: string | RedisTarget,
  timeoutMs = 3000,
): Promise<{ warnings: string[] }> {
  const probeOptions: RedisOptions = {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  };
  const where = typeof target === 'string' ? redactUrl(target) : describeRedisTarget(target);
  const probe =
    typeof target === 'string'
      ? new Redis(target, probeOptions)
      : connectPlan(planRedisConnection(target, probeOptions, { probe: true }));
  probe.on('error', () => {});
  try {
    await withDeadline(probe.connect(), timeoutMs);
    await probe.ping();
    return { warnings: durabilityWarnings(await probe.info()) };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new RedisUnreachableError(
      `cannot reach Redis at ${where} (${reason}). Start it (e.g. \`redis-server\`) or point REDIS_URL at a running Redis.`,
    );
  } finally {
    probe.disconnect();
  }
}

/** The settings a hub that must never lose a message needs (see docs/operations.md). */
export function durabilityWarnings(info: string): string[] {
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const warnings: string[] = [];
  if (field('aof_enabled') !== '1') {
    warnings.push(
      'Redis AOF is off: queued messages are lost if Redis restarts. Set `appendonly yes` and `appendfsync everysec`.',
    );
  }
  const policy = field('maxmemory_policy');
  if (policy && policy !== 'noeviction') {
    warnings.push(
      `Redis maxmemory-policy is ${policy}: Redis may evict queued jobs. Set \`maxmemory-policy noeviction\`.`,
    );
  }
  return warnings;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

export function logRedisErrors(redis: Redis, logger: Logger, what: string): void {
  let lastLogged = 0;
  redis.on('error', (err) => {
    // A down Redis emits an error per reconnect attempt; one line every 5 s is enough.
    const now = Date.now();
    if (now - lastLogged > 5000) {
      lastLogged = now;
      logger.warn({ err: err.message, what }, 'redis connection error');
    }
  });
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Resolve once the connection is ready (fail-fast connections reject commands before that). */
export function waitUntilReady(redis: Redis, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return withDeadline(
    new Promise<void>((resolve) => redis.once('ready', () => resolve())),
    timeoutMs,
  );
}

/**
 * Where the hub's Redis is: a standalone server (REDIS_URL), a master found through Sentinel, or a
 * Cluster. In the last two, REDIS_URL still supplies credentials, TLS (`rediss://`) and db.
 */
export type RedisTarget =
  | { mode: 'standalone'; url: string }
  | { mode: 'sentinel'; url: string; sentinels: HostPort[]; masterName: string; sentinelPassword?: string }
  | { mode: 'cluster'; url: string; nodes: HostPort[] };

export interface HostPort {
  host: string;
  port: number;
}

/** What `createRedis` builds for a target: ioredis options of a `Redis` or of a `Cluster`. */
export type RedisConnectionPlan =
  | { kind: 'redis'; options: RedisOptions }
  | { kind: 'cluster'; nodes: HostPort[]; options: ClusterOptions };

/** Read the Redis target from the environment (see src/config/env.ts for each variable). */
export function redisTargetFromEnv(env: {
  REDIS_URL: string;
  REDIS_SENTINELS?: string;
  REDIS_SENTINEL_MASTER: string;
  REDIS_SENTINEL_PASSWORD?: string;
  REDIS_CLUSTER_NODES?: string;
}): RedisTarget {
  if (env.REDIS_SENTINELS && env.REDIS_CLUSTER_NODES) {
    throw new Error('environment: set REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both');
  }
  if (env.REDIS_CLUSTER_NODES) {
    return {
      mode: 'cluster',
      url: env.REDIS_URL,
      nodes: parseHostList(env.REDIS_CLUSTER_NODES, 'REDIS_CLUSTER_NODES'),
    };
  }
  if (env.REDIS_SENTINELS) {
    return {
      mode: 'sentinel',
      url: env.REDIS_URL,
      sentinels: parseHostList(env.REDIS_SENTINELS, 'REDIS_SENTINELS'),
      masterName: env.REDIS_SENTINEL_MASTER,
      ...(env.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: env.REDIS_SENTINEL_PASSWORD } : {}),
    };
  }
  return { mode: 'standalone', url: env.REDIS_URL };
}

/**
 * The ioredis options for `target`, given the options of a role (offline queue, retries …).
 * Pure, so the Sentinel and Cluster shapes are unit-tested without either running.
 */
export function planRedisConnection(
  target: RedisTarget,
  roleOptions: RedisOptions,
  opts: { probe?: boolean } = {},
): RedisConnectionPlan {
  const auth = credentialsOf(target.url);
  if (target.mode === 'standalone') {
    const u = new URL(target.url);
    const host = { host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(u.port || 6379) };
    return { kind: 'redis', options: { ...host, ...auth, db: dbOf(target.url), ...roleOptions } };
  }
  if (target.mode === 'sentinel') {
    return {
      kind: 'redis',
      options: {
        ...auth,
        db: dbOf(target.url),
        ...roleOptions,
        sentinels: target.sentinels,
        name: target.masterName,
        ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
        ...(auth.tls ? { enableTLSForSentinelMode: true } : {}),
        // Same patience as for the master itself; a probe gives up at once.
        sentinelRetryStrategy: opts.probe ? () => null : (attempt) => Math.min(attempt * 200, 2000),
      },
    };
  }
  const { enableOfflineQueue, retryStrategy, lazyConnect, ...nodeOptions } = roleOptions;
  return {
    kind: 'cluster',
    nodes: target.nodes,
    options: {
      ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
      ...(lazyConnect === undefined ? {} : { lazyConnect }),
      ...(retryStrategy ? { clusterRetryStrategy: (times: number) => retryStrategy(times) ?? null } : {}),
      redisOptions: { ...auth, ...nodeOptions },
    },
  };
}

/** The target for logs and errors, without secrets. */
export function describeRedisTarget(target: RedisTarget): string {
  const hosts = (list: HostPort[]) => list.map((h) => `${h.host}:${h.port}`).join(',');
  if (target.mode === 'sentinel') return `sentinel ${hosts(target.sentinels)} (master ${target.masterName})`;
  if (target.mode === 'cluster') return `cluster ${hosts(target.nodes)}`;
  return redactUrl(target.url);
}

function parseHostList(value: string, name: string): HostPort[] {
  const list = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(entry);
      const port = Number(match?.[2]);
      if (!match?.[1] || !(port > 0 && port < 65536)) {
        throw new Error(`environment: ${name}: "${entry}" is not host:port`);
      }
      return { host: match[1].replace(/^\[|\]$/g, ''), port };
    });
  if (list.length === 0) throw new Error(`environment: ${name}: no host:port given`);
  return list;
}

function credentialsOf(url: string): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  const u = new URL(url);
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

function dbOf(url: string): number {
  const db = Number(new URL(url).pathname.slice(1) || 0);
  return Number.isInteger(db) && db >= 0 ? db : 0;
}
