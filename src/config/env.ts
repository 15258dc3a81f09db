/**
 * Process environment, parsed once at boot. One documented variable per field.
 * Config files may reference any variable as `${NAME}`; these are the ones the hub itself reads.
 */
import { z } from 'zod';

/** Every variable the hub reads, one documented field each. */
export const envObjectSchema = z.object({
  /** HTTP port of the ingress (web chat, webhooks, console). */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Host to bind. */
  HOST: z.string().default('0.0.0.0'),
  /** Redis for queues, dedupe and pub/sub. */
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  /** PostgreSQL for the store; unset ⇒ embedded PGlite in DATA_DIR. */
  DATABASE_URL: z.string().optional(),
  /** Where the embedded store keeps its files. */
  DATA_DIR: z.string().default('./data'),
  /** Directory holding hub.yaml and workflows/. */
  CONFIG_DIR: z.string().default('./config'),
  /** Bearer token for /console, /admin and the dead-letter API. Unset ⇒ those routes are closed. */
  ADMIN_TOKEN: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Prefix of every Redis key and BullMQ queue (one Redis can host several hubs or test runs).
   * On Redis Cluster it must be a hash tag so each queue's keys share a slot: a prefix without
   * `{…}` is wrapped, `sb` becoming `{sb}`.
   */
  QUEUE_PREFIX: z.string().default('sb'),
  /**
   * Redis Sentinel: comma-separated `host:port` of the sentinels. Set ⇒ the hub asks them for the
   * current master of REDIS_SENTINEL_MASTER; REDIS_URL then only supplies credentials, TLS and db.
   */
  REDIS_SENTINELS: z.string().optional(),
  /** Redis Sentinel: name of the monitored master group. */
  REDIS_SENTINEL_MASTER: z.string().default('mymaster'),
  /** Redis Sentinel: password of the sentinels themselves, when they require one. */
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  /**
   * Redis Cluster: comma-separated `host:port` seed nodes. Set ⇒ cluster mode; REDIS_URL then only
   * supplies credentials and TLS, and QUEUE_PREFIX is hash-tagged.
   */
  REDIS_CLUSTER_NODES: z.string().optional(),
  /**
   * OTLP/HTTP collector base URL for traces (e.g. `http://otel-collector:4318`; spans go to
   * `<url>/v1/traces`). Unset ⇒ tracing is off and the OpenTelemetry SDK is never loaded.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** `service.name` of exported spans. */
  OTEL_SERVICE_NAME: z.string().default('switchboard'),
  /**
   * Test-only: `1` registers the `loopback` channel type (a JSON webhook in, an HTTP POST out) so
   * child hub processes in chaos tests and benchmarks can talk to a fake platform. Never set it in
   * production.
   */
  SWITCHBOARD_TEST_CHANNELS: z.enum(['0', '1']).default('0'),
});

/** The environment schema, exported so deployment manifests can be checked against it. */
export const envSchema = envObjectSchema.transform(hashTagPrefixOnCluster);

/** BullMQ's Lua scripts touch several keys of a queue at once: on Cluster they must share a slot. */
function hashTagPrefixOnCluster<T extends { QUEUE_PREFIX: string; REDIS_CLUSTER_NODES?: string }>(env: T): T {
  if (!env.REDIS_CLUSTER_NODES || /\{[^}]+\}/.test(env.QUEUE_PREFIX)) return env;
  return { ...env, QUEUE_PREFIX: `{${env.QUEUE_PREFIX}}` };
}

export type Env = z.infer<typeof envSchema>;

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const first = result.error.issues[0];
    throw new Error(`environment: ${first?.path.join('.')}: ${first?.message}`);
  }
  return result.data;
}
