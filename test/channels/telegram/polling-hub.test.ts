/**
 * Polling mode end to end through a real hub: an update fetched with getUpdates becomes one job,
 * the reply goes out with sendMessage, and the same update delivered again (Telegram repeats
 * updates whose offset was never confirmed) yields no second job and no second reply.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TelegramAdapter } from '../../../src/channels/telegram/index.ts';
import { FakeBotApi } from '../../fakes/telegram-bot-api.ts';
import { eventually, FAST_QUEUE_YAML, startTestHub, type TestHub } from '../../helpers/hub.ts';
import { silentLogger, TOKEN, updates } from './helpers.ts';

/** Hub tests share the machine with other suites: be patient before calling it a failure. */
const PATIENCE = 25_000;
let t: TestHub;
const api = new FakeBotApi({ token: TOKEN });

beforeAll(async () => {
  await api.start();
  t = await startTestHub({
    hubYaml: `channels:
  - { id: web, type: web }
  - id: tgp
    type: telegram
    mode: polling
    token: "${TOKEN}"
    apiRoot: ${api.apiRoot}
    polling: { timeoutSec: 1 }
${FAST_QUEUE_YAML}`,
    workflows: { 'echo.yaml': 'name: echo\ndefault: true\nsteps:\n  - reply: "got: {{ message.text }}"\n' },
  });
});
afterAll(async () => {
  await t?.stop();
  await api.close();
});

async function telegramJobs() {
  const jobs = await Promise.all(
    Array.from({ length: t.hub.queues.partitions }, (_, p) =>
      t.hub.queues.inboundQueue(p).getJobs(['wait', 'active', 'delayed', 'completed', 'failed']),
    ),
  );
  return jobs.flat().filter((j) => j.data.message.channel === 'telegram');
}

it('a polled update is answered once, even when Telegram delivers it twice', async () => {
  api.pushUpdate(updates.group_mention);
  await eventually(() => api.sent.length > 0, 'the reply', PATIENCE);
  expect(api.sent[0]?.body).toEqual({
    chat_id: -1001234567890,
    text: 'got: where is my order?',
    reply_parameters: { message_id: 501, allow_sending_without_reply: true },
  });
  // A restarted poller has lost its offset, and Telegram still holds the update: it comes again.
  const adapter = t.hub.adapters.get('telegram', 'tgp') as TelegramAdapter;
  await adapter.stop();
  api.pushUpdate(updates.group_mention);
  await adapter.start({ ingest: t.hub.ingest!, logger: silentLogger, signal: new AbortController().signal });
  await eventually(
    () => adapter.poller?.offset === 20005 && api.pendingUpdates().length === 0,
    'the redelivered update to be confirmed',
    PATIENCE,
  );
  await new Promise((r) => setTimeout(r, 700));
  expect(
    api
      .callsOf('getUpdates')
      .some((c, i, all) => i > 0 && c.body.offset === undefined && all[i - 1]?.body.offset !== undefined),
  ).toBe(true);
  expect(await telegramJobs()).toHaveLength(1);
  expect(api.sent).toHaveLength(1);
}, 90_000);
