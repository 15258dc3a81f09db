/** Test wiring for the DingTalk adapter: real Redis under a random prefix, a recording ingest. */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import {
  type DingTalkConfig,
  type DingTalkConfigInput,
  dingtalkConfigSchema,
} from '../../../src/channels/dingtalk/config.ts';
import type { AdapterDeps, AdapterRuntime, IngestOutcome } from '../../../src/channels/types.ts';
import type { EventBus } from '../../../src/events/event-bus.ts';
import { type InboundDraft, type InboundMessage, toInboundMessage } from '../../../src/messages.ts';
import type { Store } from '../../../src/store/types.ts';
import { type RedisEnv, redisEnv } from '../wecom/helpers.ts';

export { type RedisEnv, redisEnv };

export const vectors = JSON.parse(
  readFileSync(new URL('../../fixtures/channels/dingtalk/vectors.json', import.meta.url), 'utf8'),
) as {
  robotCallbackSign_selfComputed: {
    timestamp_ms: string;
    appSecret: string;
    sign_base64: string;
    sign_urlencoded: string;
  };
  stream_frames_observed: Record<
    string,
    { data?: string; headers?: Record<string, string> } & Record<string, unknown>
  >;
};

export function adapterDeps(env: RedisEnv, redis: Redis = env.redis): AdapterDeps {
  return {
    redis,
    keyPrefix: env.keyPrefix,
    store: {} as Store,
    logger: pino({ level: 'silent' }),
    bus: {} as EventBus,
  };
}

export function dingtalkConfig(over: Partial<DingTalkConfigInput> = {}): DingTalkConfig {
  return dingtalkConfigSchema.parse({
    id: 'dt',
    type: 'dingtalk',
    clientId: 'dingclient',
    clientSecret: 'dingsecret',
    ...over,
  });
}

export interface LogLine {
  msg: string;
  [k: string]: unknown;
}

/** A pino logger that keeps its lines, for asserting state transitions. */
export function recordingLogger(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

/**
 * Stands in for the hub's ingest: records every call, dedupes by dedupeKey like the hub, and can
 * be held (to ACK-order test) or made to fail.
 */
export function recordingIngest(logger: pino.Logger = pino({ level: 'silent' })) {
  const calls: InboundDraft[] = [];
  const queued: InboundMessage[] = [];
  const seen = new Set<string>();
  let gate: Promise<void> | undefined;
  let failures = 0;
  const runtime: AdapterRuntime = {
    logger,
    signal: new AbortController().signal,
    async ingest(drafts) {
      calls.push(...drafts);
      if (gate) await gate;
      if (failures > 0) {
        failures--;
        throw new Error('redis unavailable');
      }
      return drafts.map((d): IngestOutcome => {
        const m = toInboundMessage(d);
        if (seen.has(m.dedupeKey)) return { id: m.id, dedupeKey: m.dedupeKey, status: 'duplicate' };
        seen.add(m.dedupeKey);
        queued.push(m);
        return { id: m.id, dedupeKey: m.dedupeKey, status: 'queued' };
      });
    },
  };
  return {
    runtime,
    calls,
    queued,
    /** Hold every ingest until the returned function is called. */
    hold(): () => void {
      let release = () => {};
      gate = new Promise<void>((r) => {
        release = () => {
          gate = undefined;
          r();
        };
      });
      return release;
    },
    failNext(n: number) {
      failures = n;
    },
  };
}
