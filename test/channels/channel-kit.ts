/**
 * Shared wiring for channel adapter unit tests: fixtures, real Redis under a random key prefix,
 * adapter deps, and a runtime whose `ingest` records drafts (deduping like the hub) and can be
 * made to fail. Platform helpers (e.g. test/channels/telegram/helpers.ts) build on it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { AdapterDeps, AdapterRuntime, IngestOutcome } from '../../src/channels/types.ts';
import type { EventBus } from '../../src/events/event-bus.ts';
import type { InboundDraft } from '../../src/messages.ts';
import type { Store } from '../../src/store/types.ts';

export const silentLogger = pino({ level: 'silent' });

/** JSON fixtures of one platform, from test/fixtures/channels/<platform>/. */
export function fixtureReader(platform: string) {
  return <T = any>(name: string): T =>
    JSON.parse(
      readFileSync(new URL(`../fixtures/channels/${platform}/${name}`, import.meta.url), 'utf8'),
    ) as T;
}

export interface RedisEnv {
  redis: Redis;
  keyPrefix: string;
  cleanup(): Promise<void>;
}

/** A Redis connection and a key prefix of its own (`sbtest:<tag>:<random>`), removed by `cleanup`. */
export function redisEnv(tag: string): RedisEnv {
  const keyPrefix = `sbtest:${tag}:${randomBytes(6).toString('hex')}`;
  const redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 2 });
  return {
    redis,
    keyPrefix,
    async cleanup() {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}:*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      await redis.quit();
    },
  };
}

/** Adapter deps on real Redis; the store and bus are not used by these adapters' unit tests. */
export function deps(env: RedisEnv): AdapterDeps {
  return {
    redis: env.redis,
    keyPrefix: env.keyPrefix,
    store: {} as Store,
    logger: silentLogger,
    bus: {} as EventBus,
  };
}

export type RecordingRuntime = AdapterRuntime & {
  drafts: InboundDraft[];
  calls: number;
  failNext(n: number): void;
  abort(): void;
};

/** A runtime whose ingest records drafts (dedupe by platformMessageId, like the hub) and can be made to fail. */
export function recordingRuntime(): RecordingRuntime {
  const seen = new Set<string>();
  const controller = new AbortController();
  let failures = 0;
  const runtime: RecordingRuntime = {
    drafts: [],
    calls: 0,
    logger: silentLogger,
    signal: controller.signal,
    failNext(n: number) {
      failures = n;
    },
    abort: () => controller.abort(),
    async ingest(batch: InboundDraft[]): Promise<IngestOutcome[]> {
      runtime.calls++;
      if (failures > 0) {
        failures--;
        throw new Error('Redis is unavailable; retry later');
      }
      return batch.map((d) => {
        const dedupeKey = `${d.channel}:${d.channelId}:${d.platformMessageId}`;
        const duplicate = seen.has(dedupeKey);
        seen.add(dedupeKey);
        if (!duplicate) runtime.drafts.push(d);
        return { id: dedupeKey, dedupeKey, status: duplicate ? 'duplicate' : 'queued' };
      });
    },
  };
  return runtime;
}

export async function until(
  fn: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
