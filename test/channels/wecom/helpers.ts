/** Test wiring for the WeCom adapter: real Redis under a random key prefix, silent logger, fixtures. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { AdapterDeps } from '../../../src/channels/types.ts';
import {
  type WeComConfig,
  type WeComConfigInput,
  wecomConfigSchema,
} from '../../../src/channels/wecom/config.ts';
import type { EventBus } from '../../../src/events/event-bus.ts';
import type { Store } from '../../../src/store/types.ts';

export function fixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/channels/wecom/${name}`, import.meta.url), 'utf8');
}

/** The official vectors (see the fixture's `_note` for the source). */
interface CryptoVector {
  token: string;
  encodingAESKey: string;
  receiveid: string;
  timestamp: string;
  nonce: string;
  msg_signature: string;
  expected_plaintext: string;
}
export const vectors = JSON.parse(fixture('official-vectors.json')) as {
  verifyUrl_official: CryptoVector & { echostr: string };
  decryptMsg_official: CryptoVector & { encrypt: string; body_xml: string };
};

export const silentLogger = pino({ level: 'silent' });

export interface RedisEnv {
  redis: Redis;
  keyPrefix: string;
  /** Another connection, as a second hub process would have. */
  connect(): Redis;
  cleanup(): Promise<void>;
}

/** A Redis connection and a key prefix no other test uses; `cleanup` deletes exactly those keys. */
export function redisEnv(): RedisEnv {
  const keyPrefix = `sbtest:${randomBytes(6).toString('hex')}`;
  const clients: Redis[] = [];
  const connect = () => {
    const r = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 2 });
    clients.push(r);
    return r;
  };
  const redis = connect();
  return {
    redis,
    keyPrefix,
    connect,
    async cleanup() {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}:*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      await Promise.all(clients.map((c) => c.quit()));
    },
  };
}

export function adapterDeps(env: RedisEnv, redis: Redis = env.redis): AdapterDeps {
  // The WeCom adapter uses neither the store nor the event bus.
  return { redis, keyPrefix: env.keyPrefix, store: {} as Store, logger: silentLogger, bus: {} as EventBus };
}

export function wecomConfig(over: Partial<WeComConfigInput> = {}): WeComConfig {
  return wecomConfigSchema.parse({
    id: 'wc',
    type: 'wecom',
    corpId: 'wx5823bf96d3bd56c7',
    agentId: 218,
    token: 'QDG6eK',
    encodingAESKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
    secret: 'app-secret',
    ...over,
  });
}
