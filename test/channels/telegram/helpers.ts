/** Test wiring for the Telegram adapter: real Redis under a random key prefix, fixtures, a runtime that records ingests. */
import { type TelegramConfigInput, telegramConfigSchema } from '../../../src/channels/telegram/config.ts';
import { TelegramAdapter } from '../../../src/channels/telegram/index.ts';
import type { WebhookRequest } from '../../../src/channels/types.ts';
import { deps, fixtureReader, type RedisEnv, redisEnv as sharedRedisEnv } from '../channel-kit.ts';

export const TOKEN = '4242:AAFakeTokenForTests_abc-123';
export const SECRET = 'wh-secret_0123456789';

export const fixture = fixtureReader('telegram');

export const updates = fixture<Record<string, any>>('updates.json');
export const official = fixture('official-vectors.json');

export { deps, type RedisEnv, silentLogger } from '../channel-kit.ts';

export function redisEnv(): RedisEnv {
  return sharedRedisEnv('tg');
}

export function adapter(env: RedisEnv, over: Partial<TelegramConfigInput> = {}): TelegramAdapter {
  const config = telegramConfigSchema.parse({
    id: 'tg',
    type: 'telegram',
    token: TOKEN,
    secretToken: SECRET,
    botUsername: 'switchboard_test_bot',
    ...over,
  });
  return new TelegramAdapter('tg', config, deps(env));
}

export function webhook(
  body: unknown,
  headers: Record<string, string> = { 'x-telegram-bot-api-secret-token': SECRET },
): WebhookRequest {
  return {
    method: 'POST',
    query: {},
    headers: { 'content-type': 'application/json', ...headers },
    rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    receivedAt: new Date('2024-05-01T00:00:00Z'),
  };
}

export { recordingRuntime, until } from '../channel-kit.ts';
