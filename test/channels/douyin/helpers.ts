/** Test wiring for the Douyin adapter: real Redis under a random key prefix, fixtures, signed requests. */
import { type DouyinConfigInput, douyinConfigSchema } from '../../../src/channels/douyin/config.ts';
import { DouyinAdapter } from '../../../src/channels/douyin/index.ts';
import type { WebhookRequest } from '../../../src/channels/types.ts';
import { signDouyinEvent } from '../../fakes/douyin-open-api.ts';
import { deps, fixtureReader, type RedisEnv, redisEnv as sharedRedisEnv } from '../channel-kit.ts';

export const CLIENT_KEY = 'awtestclientkey';
export const CLIENT_SECRET = 'test_client_secret';

export const fixture = fixtureReader('douyin');
export const events = fixture<Record<string, any>>('events.json');
export const vectors = fixture('official-vectors.json');

export { deps, type RedisEnv, silentLogger } from '../channel-kit.ts';

export function redisEnv(): RedisEnv {
  return sharedRedisEnv('dy');
}

export function adapter(env: RedisEnv, over: Partial<DouyinConfigInput> = {}): DouyinAdapter {
  const config = douyinConfigSchema.parse({
    id: 'dy',
    type: 'douyin',
    clientKey: CLIENT_KEY,
    clientSecret: CLIENT_SECRET,
    ...over,
  });
  return new DouyinAdapter('dy', config, deps(env));
}

/** A webhook request signed with the test secret (or `secret`); `body` is sent byte for byte. */
export function signedRequest(body: unknown, opts: { secret?: string; msgId?: string } = {}): WebhookRequest {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const signed = signDouyinEvent(text, opts.secret ?? CLIENT_SECRET, opts.msgId);
  return {
    method: 'POST',
    query: {},
    headers: signed.headers,
    rawBody: Buffer.from(text, 'utf8'),
    receivedAt: new Date('2024-05-01T04:00:00Z'),
  };
}
