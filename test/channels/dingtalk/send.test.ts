/**
 * Outbound DingTalk against the local fake: the session webhook while valid, the OpenAPI after
 * expiry (1:1 and group) with a cached token refreshed once on 401, and the webhook host guard.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDingTalkAdapter } from '../../../src/channels/dingtalk/index.ts';
import { parseRobotMessage } from '../../../src/channels/dingtalk/parse.ts';
import type { SendContext } from '../../../src/channels/types.ts';
import { type OutboundMessage, toOutboundMessage } from '../../../src/messages.ts';
import { FakeDingTalk, robotMessage } from '../../fakes/dingtalk-server.ts';
import { adapterDeps, dingtalkConfig, redisEnv } from './helpers.ts';

const env = redisEnv();
const fake = new FakeDingTalk({ clientId: 'dingsend', clientSecret: 'dingsecret' });
const ctx: SendContext = { logger: pino({ level: 'silent' }), signal: new AbortController().signal };
/** Another local server standing in for "somewhere a forged payload points". */
const elsewhere = createServer((_req, res) => {
  elsewhereHits++;
  res.end('{"errcode":0}');
});
let elsewhereHits = 0;
let seq = 0;

beforeAll(async () => {
  await fake.start();
  await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await fake.close();
  elsewhere.close();
  await env.cleanup();
});
beforeEach(() => {
  fake.calls.length = 0;
});

function adapter(now?: () => number) {
  const config = dingtalkConfig({
    clientId: 'dingsend',
    clientSecret: 'dingsecret',
    apiBase: fake.baseUrl,
    oapiBase: fake.baseUrl,
  });
  return createDingTalkAdapter('dt', config, adapterDeps(env), { now });
}

/** The reply target exactly as parse() stores it for an inbound message. */
function replyToOf(over: Record<string, unknown>): Record<string, unknown> {
  const parsed = parseRobotMessage(robotMessage(over, fake.baseUrl), 'dt', new Date());
  if (!('draft' in parsed)) throw new Error('fixture not parsed');
  return parsed.draft.replyTo;
}

function reply(
  replyTo: Record<string, unknown>,
  text: string,
  kind: OutboundMessage['kind'] = 'text',
): OutboundMessage {
  return toOutboundMessage({
    conversationId: 'dingtalk:dt:cid',
    channel: 'dingtalk',
    channelId: 'dt',
    replyTo,
    kind,
    text,
    idempotencyKey: `k${++seq}`,
    traceId: 't',
  });
}

describe('session webhook', () => {
  it('posts text to the sessionWebhook while it is valid, no token needed', async () => {
    const replyTo = replyToOf({});
    await adapter().send(reply(replyTo, '已为您查询'), ctx);
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]).toMatchObject({
      path: '/robot/sendBySession',
      query: { session: new URL(String(replyTo.sessionWebhook)).searchParams.get('session') },
      body: { msgtype: 'text', text: { content: '已为您查询' } },
    });
  });

  it('markdown gets a plain first-line title', async () => {
    await adapter().send(reply(replyToOf({}), '## 退款进度\n- 已受理', 'markdown'), ctx);
    expect(fake.calls[0]?.body).toEqual({
      msgtype: 'markdown',
      markdown: { title: '退款进度', text: '## 退款进度\n- 已受理' },
    });
  });

  it('URL attachments travel as links, or as inline images in markdown', async () => {
    const withFiles = (text: string, kind: OutboundMessage['kind']) => ({
      ...reply(replyToOf({}), text, kind),
      attachments: [
        { url: 'https://cdn.example.com/size-chart.png', mime: 'image/png' },
        { url: 'https://cdn.example.com/returns.pdf', name: 'Returns form' },
      ],
    });
    await adapter().send(withFiles('尺码表', 'text'), ctx);
    expect(fake.calls[0]?.body).toEqual({
      msgtype: 'text',
      text: {
        content:
          '尺码表\nsize-chart.png: https://cdn.example.com/size-chart.png\nReturns form: https://cdn.example.com/returns.pdf',
      },
    });
    await adapter().send(withFiles('## 尺码表', 'markdown'), ctx);
    expect(fake.calls[1]?.body).toMatchObject({
      msgtype: 'markdown',
      markdown: {
        title: '尺码表',
        text: '## 尺码表\n![size-chart.png](https://cdn.example.com/size-chart.png)\n[Returns form](https://cdn.example.com/returns.pdf)',
      },
    });
  });

  it('a webhook DingTalk refuses as expired falls back to the OpenAPI', async () => {
    const replyTo = replyToOf({});
    fake.expiredSessions.add(new URL(String(replyTo.sessionWebhook)).searchParams.get('session')!);
    await adapter().send(reply(replyTo, 'x'), ctx);
    expect(fake.calls.map((c) => c.path)).toContain('/v1.0/robot/oToMessages/batchSend');
  });

  it('never posts to a session webhook outside the oapi host', async () => {
    const port = (elsewhere.address() as AddressInfo).port;
    const replyTo = replyToOf({ sessionWebhook: `http://127.0.0.1:${port}/robot/sendBySession?session=x` });
    // Same IP, other port: not the configured oapi host.
    await adapter().send(reply(replyTo, 'x'), ctx);
    expect(elsewhereHits).toBe(0);
    expect(fake.calls.map((c) => c.path)).toContain('/v1.0/robot/oToMessages/batchSend');
  });
});

describe('OpenAPI after expiry', () => {
  const expired = { sessionWebhookExpiredTime: Date.now() - 1000 };

  it('1:1 → oToMessages/batchSend with the cached token', async () => {
    const a = adapter();
    const res = await a.send(reply(replyToOf(expired), '您好'), ctx);
    const send = fake.calls.find((c) => c.path === '/v1.0/robot/oToMessages/batchSend')!;
    expect(send.body).toEqual({
      robotCode: 'dingrobot',
      msgKey: 'sampleText',
      msgParam: '{"content":"您好"}',
      userIds: ['staff001'],
    });
    expect(send.headers['x-acs-dingtalk-access-token']).toMatch(/^dt_/);
    expect(res.platformMessageId).toMatch(/^pq-/);
    expect(fake.calls.filter((c) => c.path === '/robot/sendBySession')).toHaveLength(0);
  });

  it('within the safety margin of expiry the webhook is not used either', async () => {
    const now = Date.now();
    await adapter(() => now).send(reply(replyToOf({ sessionWebhookExpiredTime: now + 30_000 }), 'x'), ctx);
    expect(fake.calls.map((c) => c.path)).not.toContain('/robot/sendBySession');
  });

  it('group → groupMessages/send with openConversationId; markdown template', async () => {
    await adapter().send(
      reply(replyToOf({ ...expired, conversationType: '2', conversationId: 'cidG' }), '**ok**', 'markdown'),
      ctx,
    );
    const send = fake.calls.find((c) => c.path === '/v1.0/robot/groupMessages/send')!;
    expect(send.body).toEqual({
      robotCode: 'dingrobot',
      msgKey: 'sampleMarkdown',
      msgParam: JSON.stringify({ title: 'ok', text: '**ok**' }),
      openConversationId: 'cidG',
    });
  });

  it('one token for many sends; a revoked token is refreshed once', async () => {
    const a = adapter();
    await a.api.tokens.invalidate(await a.api.tokens.get()); // start from an empty cache
    const before = fake.tokenFetches;
    await Promise.all(Array.from({ length: 20 }, (_, i) => a.send(reply(replyToOf(expired), `m${i}`), ctx)));
    expect(fake.tokenFetches - before).toBe(1);
    fake.revokeTokenOnce = true;
    await a.send(reply(replyToOf(expired), 'after revoke'), ctx);
    expect(fake.tokenFetches - before).toBe(2);
    const sends = fake.calls.filter((c) => c.path === '/v1.0/robot/oToMessages/batchSend');
    expect((sends.at(-1)!.body as { msgParam: string }).msgParam).toBe('{"content":"after revoke"}');
  });

  it('a 1:1 reply without staff id cannot go through the OpenAPI: permanent failure', async () => {
    const replyTo = { ...replyToOf(expired), senderStaffId: undefined };
    await expect(adapter().send(reply(replyTo, 'x'), ctx)).rejects.toMatchObject({ retryable: false });
  });
});
