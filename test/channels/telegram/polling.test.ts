/**
 * Long-polling mode against the fake Bot API: the webhook is removed first, updates are ingested
 * in order, the offset advances only after ingest (a failed ingest gets the same batch again and
 * nothing is lost or doubled), flood control on getUpdates is honoured, one poller per bot.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeBotApi } from '../../fakes/telegram-bot-api.ts';
import { adapter, official, recordingRuntime, redisEnv, TOKEN, until, updates } from './helpers.ts';

let env: ReturnType<typeof redisEnv>;
let api: FakeBotApi;
const started: ReturnType<typeof adapter>[] = [];

beforeEach(async () => {
  env = redisEnv();
  api = await new FakeBotApi({ token: TOKEN }).start();
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((a) => a.stop()));
  await api.close();
  await env.cleanup();
});

function poller(over: Record<string, unknown> = {}) {
  const a = adapter(env, {
    mode: 'polling',
    secretToken: undefined,
    apiRoot: api.apiRoot,
    polling: { timeoutSec: 1, backoffMin: 20, backoffMax: 50, lockTtl: 600 },
    ...over,
  });
  started.push(a);
  return a;
}

describe('polling mode', () => {
  it('deletes the webhook, then ingests updates in order and confirms them with the next offset', async () => {
    api.webhookUrl = 'https://old.example.com/hook'; // getUpdates would answer 409 while it is set
    api.pushUpdate(official.update_text_official.update);
    api.pushUpdate(updates.private_photo);
    const runtime = recordingRuntime();
    const tg = poller();
    await tg.start(runtime);
    await until(() => runtime.drafts.length === 2, 'two drafts');
    expect(api.callsOf('deleteWebhook')[0]?.body).toEqual({ drop_pending_updates: false });
    expect(runtime.drafts.map((d) => d.platformMessageId)).toEqual(['u10000', 'u20001']);
    await until(() => tg.poller?.offset === 20002, 'the offset to advance');
    await until(() => api.pendingUpdates().length === 0, 'Telegram to forget the confirmed updates');
    expect(tg.health()).toEqual({ ok: true, detail: 'polling' });
  });

  it('a failed ingest does not advance the offset: the same updates come back, nothing lost or doubled', async () => {
    const runtime = recordingRuntime();
    runtime.failNext(2);
    api.pushUpdate(updates.private_document);
    const tg = poller();
    await tg.start(runtime);
    await until(() => runtime.drafts.length === 1, 'the draft after two failed ingests');
    expect(api.callsOf('getUpdates').length).toBeGreaterThanOrEqual(3);
    // Every getUpdates until the successful ingest asked without an offset past the update.
    expect(
      api
        .callsOf('getUpdates')
        .slice(0, 3)
        .map((c) => c.body.offset),
    ).toEqual([undefined, undefined, undefined]);
    await until(() => tg.poller?.offset === 20003, 'the offset');
    expect(runtime.drafts.map((d) => d.platformMessageId)).toEqual(['u20002']);
  });

  it('ignored updates are confirmed too (they do not block the queue)', async () => {
    const runtime = recordingRuntime();
    api.pushUpdate(updates.edited_message);
    api.pushUpdate(updates.private_voice);
    const tg = poller();
    await tg.start(runtime);
    await until(() => tg.poller?.offset === 20011, 'the offset past both updates');
    expect(runtime.drafts.map((d) => d.platformMessageId)).toEqual(['u20003']);
  });

  it('honours retry_after of a 429 on getUpdates', async () => {
    api.failNext('getUpdates', FakeBotApi.floodControl(1));
    const runtime = recordingRuntime();
    const tg = poller();
    await tg.start(runtime);
    await until(() => api.callsOf('getUpdates').length >= 2, 'the second getUpdates', 4000);
    const [first, second] = api.callsOf('getUpdates');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });

  it('only one of two processes polls the same bot', async () => {
    const a = poller();
    const b = poller();
    await a.start(recordingRuntime());
    await until(() => a.poller?.state === 'polling', 'the first poller');
    await b.start(recordingRuntime());
    await new Promise((r) => setTimeout(r, 300));
    expect(b.poller?.state).toBe('standby');
    expect(b.health().ok).toBe(true);
  });

  it('learns the bot username with getMe when it is not configured', async () => {
    const tg = poller({ botUsername: undefined });
    await tg.start(recordingRuntime());
    await tg.ready();
    expect(tg.bot.username).toBe('switchboard_test_bot');
  });
});

describe('webhook mode start', () => {
  it('registers webhookUrl with the secret token', async () => {
    const tg = adapter(env, {
      apiRoot: api.apiRoot,
      webhookUrl: 'https://hub.example.com/webhooks/telegram/tg',
    });
    started.push(tg);
    await tg.start(recordingRuntime());
    await tg.ready();
    expect(api.callsOf('setWebhook')[0]?.body).toEqual({
      url: 'https://hub.example.com/webhooks/telegram/tg',
      secret_token: 'wh-secret_0123456789',
      allowed_updates: ['message'],
    });
    expect(tg.poller).toBeUndefined();
  });
});
