/** Test wiring for the Taobao adapter: real Redis under a random key prefix, fixtures, a recording runtime. */
import { type TaobaoConfigInput, taobaoConfigSchema } from '../../../src/channels/taobao/config.ts';
import { TaobaoAdapter, type TaobaoAdapterOptions } from '../../../src/channels/taobao/index.ts';
import { deps, fixtureReader, type RedisEnv, redisEnv as sharedRedisEnv } from '../channel-kit.ts';

export const APP_KEY = '12345678';
export const APP_SECRET = 'helloworld';
export const BRIDGE_SECRET = 'bridge-secret-0123';

export const fixture = fixtureReader('taobao');
export const vectors = fixture('official-vectors.json');
export const tmcEvents = fixture<Record<string, string>>('tmc-events.json');
export const bridgeMessages = fixture<Record<string, any>>('bridge-messages.json');

export { deps, type RedisEnv, silentLogger } from '../channel-kit.ts';

export function redisEnv(): RedisEnv {
  return sharedRedisEnv('tb');
}

export function adapter(
  env: RedisEnv,
  over: Partial<TaobaoConfigInput> = {},
  opts?: TaobaoAdapterOptions,
): TaobaoAdapter {
  const config = taobaoConfigSchema.parse({
    id: 'tb',
    type: 'taobao',
    appKey: APP_KEY,
    appSecret: APP_SECRET,
    ...over,
  });
  return new TaobaoAdapter('tb', config, deps(env), opts);
}

/** A runtime whose ingest dedupes like the hub, records drafts, and can be made to fail. */
export { recordingRuntime, until } from '../channel-kit.ts';
