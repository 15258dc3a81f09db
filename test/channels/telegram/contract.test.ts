/**
 * End to end through a real hub (HTTP route, Redis, queue, store, workflow, outbound worker):
 * the official sample Update POSTed to /webhooks/telegram/:id with the secret-token header → one
 * InboundMessage job → the reply arrives at the fake Bot API as sendMessage. Plus the shared
 * contract: a missing or wrong secret is 401 with nothing queued, a redelivery yields no second reply.
 */
import { expect } from 'vitest';
import { FakeBotApi } from '../../fakes/telegram-bot-api.ts';
import { adapterContract, type ContractRequest } from '../adapter-contract.ts';
import { official, SECRET, TOKEN } from './helpers.ts';

const update = JSON.stringify(official.update_text_official.update);

function post(headers: Record<string, string>, body = update): ContractRequest {
  return { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body };
}

adapterContract({
  type: 'telegram',
  async startFake() {
    const api = await new FakeBotApi({ token: TOKEN }).start();
    const channelYaml = `id: tg
type: telegram
token: "${TOKEN}"
secretToken: ${SECRET}
apiRoot: ${api.apiRoot}`;
    return {
      channelId: 'tg',
      channelYaml,
      fake: {
        sent: () => api.sent.map((c) => ({ method: c.method, body: c.body })),
        close: () => api.close(),
      },
    };
  },
  validCallback: () => post({ 'x-telegram-bot-api-secret-token': SECRET }),
  expectInbound: {
    text: '/start',
    kind: 'text',
    dedupeKey: 'telegram:tg:u10000',
    sender: { id: '1111111', name: 'Test Firstname Test Lastname' },
    conversationId: 'telegram:tg:1111111',
  },
  tampered: () => [
    { name: 'missing secret header', ...post({}) },
    { name: 'wrong secret', ...post({ 'x-telegram-bot-api-secret-token': `${SECRET.slice(0, -1)}X` }) },
    { name: 'secret of another bot', ...post({ 'x-telegram-bot-api-secret-token': 'another-bots-secret' }) },
  ],
  expectSent(sent, text) {
    expect(sent).toEqual([{ method: 'sendMessage', body: { chat_id: 1111111, text } }]);
  },
});
