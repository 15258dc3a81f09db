/**
 * Outbound WeCom against the local fake API: exact request bodies, token refresh on 42001,
 * single-flight gettoken, text splitting, resumable multi-part sends, rate limiting, kf send.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SendContext } from '../../../src/channels/types.ts';
import { createWeComAdapter, type WeComAdapter } from '../../../src/channels/wecom/index.ts';
import { ChannelSendError } from '../../../src/errors.ts';
import { type OutboundMessage, toOutboundMessage } from '../../../src/messages.ts';
import { FakeWeComApi } from '../../fakes/wecom-api.ts';
import { adapterDeps, redisEnv, silentLogger, wecomConfig } from './helpers.ts';

const env = redisEnv();
const corpId = 'wwcorp0001';
const api = new FakeWeComApi({ corpId, secrets: ['app-secret', 'kf-secret'], gettokenDelayMs: 30 });
const ctx: SendContext = { logger: silentLogger, signal: new AbortController().signal };
let seq = 0;

beforeAll(async () => {
  await api.start();
});
afterAll(async () => {
  await api.close();
  await env.cleanup();
});
afterEach(() => {
  api.requests.length = 0;
  api.delivered.length = 0;
});

function adapter(
  over: Parameters<typeof wecomConfig>[0] = {},
  redis = env.redis,
  now?: () => number,
): WeComAdapter {
  // Limits are off unless a test is about them: the default 30/min per member would throttle this file.
  const config = wecomConfig({
    corpId,
    agentId: '1000002',
    apiBase: api.baseUrl,
    kf: { enabled: true, secret: 'kf-secret' },
    rateLimit: { enabled: false },
    ...over,
  });
  return createWeComAdapter('wc', config, adapterDeps(env, redis), { now });
}

function reply(
  text: string,
  replyTo: Record<string, unknown> = { mode: 'app', touser: 'zhangsan', agentid: 1000002 },
  kind: OutboundMessage['kind'] = 'text',
): OutboundMessage {
  return toOutboundMessage({
    conversationId: 'wecom:wc:app:1000002:zhangsan',
    channel: 'wecom',
    channelId: 'wc',
    replyTo,
    kind,
    text,
    idempotencyKey: `reply-${++seq}-${Math.random()}`,
    traceId: 't1',
  });
}

describe('message/send', () => {
  it('delivers the exact body WeCom documents, with a valid token', async () => {
    const a = adapter();
    const res = await a.send(reply('您好，订单已发货'), ctx);
    expect(api.delivered).toEqual([
      {
        path: '/cgi-bin/message/send',
        body: {
          touser: 'zhangsan',
          agentid: 1000002,
          safe: 0,
          msgtype: 'text',
          text: { content: '您好，订单已发货' },
        },
      },
    ]);
    expect(res.platformMessageId).toMatch(/^msg_/);
    const gettoken = api.calls('/cgi-bin/gettoken');
    expect(gettoken.map((r) => r.query)).toEqual([{ corpid: corpId, corpsecret: 'app-secret' }]);
  });

  it('markdown replies use msgtype markdown', async () => {
    await adapter().send(reply('**已退款**', undefined, 'markdown'), ctx);
    expect(api.delivered[0]?.body).toMatchObject({
      msgtype: 'markdown',
      markdown: { content: '**已退款**' },
    });
  });

  it('refreshes the token once when WeCom says 42001 mid-stream, and loses no message', async () => {
    const a = adapter();
    await a.send(reply('one'), ctx);
    const before = api.gettokenCalls;
    api.expireTokenOnNextCall();
    await a.send(reply('two'), ctx);
    await a.send(reply('three'), ctx);
    expect(api.delivered.map((d) => (d.body.text as { content: string }).content)).toEqual([
      'one',
      'two',
      'three',
    ]);
    expect(api.gettokenCalls - before).toBe(1);
    const sends = api.calls('/cgi-bin/message/send');
    // one rejected (42001) with the old token, then the retry with a new one
    expect(sends).toHaveLength(4);
    expect(sends[1]?.query.access_token).not.toBe(sends[2]?.query.access_token);
  });

  it('a second 42001 in a row surfaces as a retryable error instead of looping', async () => {
    const a = adapter();
    await a.send(reply('warm'), ctx);
    api.expireTokenOnNextCall(2);
    await expect(a.send(reply('x'), ctx)).rejects.toMatchObject({ retryable: true });
  });

  it('single-flight: 50 concurrent sends from two processes → 1 gettoken', async () => {
    // Fresh corp-secret key space: a new prefix would also do; here the cache is simply dropped.
    const a = adapter();
    const b = adapter({}, env.connect());
    const cached = await a.api.tokens('app-secret').get();
    await a.api.tokens('app-secret').invalidate(cached);
    await b.api.tokens('app-secret').invalidate(cached);
    const before = api.gettokenCalls;
    const sends = Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).send(reply(`m${i}`), ctx));
    await Promise.all(sends);
    expect(api.gettokenCalls - before).toBe(1);
    expect(api.delivered).toHaveLength(50);
  });

  it('splits Chinese text over 2048 bytes on character boundaries, in order', async () => {
    // 1000 × 3-byte characters with an emoji (4 bytes, a surrogate pair) right at the first cut.
    const text = '退'.repeat(682) + '😀' + '款'.repeat(317) + '\n' + '好'.repeat(400);
    await adapter().send(reply(text), ctx);
    const parts = api.delivered.map((d) => (d.body.text as { content: string }).content);
    expect(parts.length).toBe(3);
    for (const p of parts) {
      expect(Buffer.byteLength(p)).toBeLessThanOrEqual(2048);
      expect(p).not.toMatch(/\uFFFD/);
      expect(p).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/); // no lone surrogate
    }
    expect(parts.join('')).toBe(text);
  });

  it('a multi-part reply that failed half-way resumes without repeating the sent parts', async () => {
    const a = adapter();
    const msg = reply('甲'.repeat(682) + '乙'.repeat(682) + '丙'.repeat(10));
    api.failNextSend(-1); // WeCom "system busy" on the very first part
    await expect(a.send(msg, ctx)).rejects.toMatchObject({ retryable: true, retryAfterSec: 2 });
    expect(api.delivered).toHaveLength(0);
    await a.send(msg, ctx); // the queue's retry
    expect(api.delivered).toHaveLength(3);
    // Now fail in the middle: part 1 delivered, part 2 refused, the retry sends 2 and 3 only.
    const msg2 = reply('丁'.repeat(682) + '戊'.repeat(682) + '己'.repeat(10));
    api.delivered.length = 0;
    const original = a.api.post.bind(a.api);
    let calls = 0;
    a.api.post = (async (...args: Parameters<typeof original>) => {
      if (++calls === 2) api.failNextSend(45033);
      return original(...args);
    }) as typeof a.api.post;
    await expect(a.send(msg2, ctx)).rejects.toBeInstanceOf(ChannelSendError);
    await a.send(msg2, ctx);
    const contents = api.delivered.map((d) => (d.body.text as { content: string }).content[0]);
    expect(contents).toEqual(['丁', '戊', '己']);
  });

  it('a member outside the app visibility is a permanent failure', async () => {
    api.invalidUsers.add('ghost');
    await expect(
      adapter().send(reply('hi', { mode: 'app', touser: 'ghost', agentid: 1000002 }), ctx),
    ).rejects.toMatchObject({
      retryable: false,
    });
  });

  it('a replyTo without touser is a permanent failure, nothing sent', async () => {
    await expect(adapter().send(reply('hi', { mode: 'app' }), ctx)).rejects.toMatchObject({
      retryable: false,
    });
    expect(api.calls('/cgi-bin/message/send')).toHaveLength(0);
  });
});

describe('rate limits', () => {
  it('over the per-member limit the send is delayed (retryable with retryAfterSec), never dropped', async () => {
    let now = Date.UTC(2026, 0, 1, 10, 0, 5);
    const a = adapter({ rateLimit: { memberPerMinute: 3, maxInlineWait: 0 } }, env.redis, () => now);
    const to = { mode: 'app', touser: `busy-${Math.random()}`, agentid: 1000002 };
    for (const t of ['1', '2', '3']) await a.send(reply(t, to), ctx);
    const fourth = reply('4', to);
    const err = await a.send(fourth, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelSendError);
    expect(err).toMatchObject({ retryable: true, retryAfterSec: 60 });
    expect(api.delivered).toHaveLength(3);
    // Another member is not affected.
    await a.send(reply('other', { ...to, touser: 'someone-else' }), ctx);
    // The queue retries after retryAfterSec: now it goes through.
    now += 60_001;
    await a.send(fourth, ctx);
    expect(api.delivered.map((d) => (d.body.text as { content: string }).content)).toEqual([
      '1',
      '2',
      '3',
      'other',
      '4',
    ]);
  });

  it('short waits are absorbed inline', async () => {
    // The clock runs in real time from an offset the test moves: the member window (60 s) is made
    // to free its slot ~200 ms after the second send asks for it.
    let offset = 0;
    const a = adapter(
      { rateLimit: { memberPerMinute: 1, maxInlineWait: 2000 } },
      env.redis,
      () => Date.now() + offset,
    );
    const to = { mode: 'app', touser: `inline-${Math.random()}`, agentid: 1000002 };
    await a.send(reply('a', to), ctx);
    offset = 60_000 - 200;
    const started = Date.now();
    await a.send(reply('b', to), ctx);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(150);
    expect(waited).toBeLessThan(1500);
    expect(api.delivered.map((d) => (d.body.text as { content: string }).content)).toEqual(['a', 'b']);
  });
});

describe('kf/send_msg', () => {
  it('replies to a WeChat customer with the kf secret token', async () => {
    await adapter().send(
      reply('感谢咨询', { mode: 'kf', open_kfid: 'wkOPEN', external_userid: 'wmEXT' }),
      ctx,
    );
    expect(api.delivered).toEqual([
      {
        path: '/cgi-bin/kf/send_msg',
        body: { touser: 'wmEXT', open_kfid: 'wkOPEN', msgtype: 'text', text: { content: '感谢咨询' } },
      },
    ]);
    expect(api.calls('/cgi-bin/gettoken').map((r) => r.query.corpsecret)).toContain('kf-secret');
  });

  it('markdown becomes text for WeChat customers', async () => {
    await adapter().send(
      reply('# hi', { mode: 'kf', open_kfid: 'wkOPEN', external_userid: 'wmEXT' }, 'markdown'),
      ctx,
    );
    expect(api.delivered[0]?.body).toMatchObject({ msgtype: 'text', text: { content: '# hi' } });
  });
});
