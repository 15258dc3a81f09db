/**
 * Outbound Douyin against a fake Open API on 127.0.0.1: the pinned reply body, the Redis-cached
 * token (client_token, or a user token refreshed from a refresh token), token expiry, retry semantics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReplyBody, type DouyinReplyTo } from '../../../src/channels/douyin/index.ts';
import { ChannelSendError } from '../../../src/errors.ts';
import { toOutboundMessage } from '../../../src/messages.ts';
import { FakeDouyinOpenApi } from '../../fakes/douyin-open-api.ts';
import { adapter, CLIENT_KEY, CLIENT_SECRET, redisEnv, silentLogger } from './helpers.ts';

const env = redisEnv();
const api = new FakeDouyinOpenApi({ clientKey: CLIENT_KEY, clientSecret: CLIENT_SECRET });
beforeAll(() => api.start());
afterAll(async () => {
  await api.close();
  await env.cleanup();
});

const replyTo: DouyinReplyTo = {
  openId: '_000biz-open-id-B',
  toUserId: '_000user-open-id-A',
  conversationId: '7356000000000000001',
  msgId: '7356000000000000101',
};
let seq = 0;
const reply = (text: string, to: Record<string, unknown> = replyTo) =>
  toOutboundMessage({
    conversationId: 'douyin:dy:7356000000000000001',
    channel: 'douyin',
    channelId: 'dy',
    replyTo: to,
    kind: 'text',
    text,
    idempotencyKey: `dy-${Date.now()}-${++seq}`,
    traceId: 't',
  });
const ctx = () => ({ logger: silentLogger, signal: new AbortController().signal });

describe('buildReplyBody (the one place that knows the unverified reply schema)', () => {
  it('is pinned: change it only together with docs/channels/douyin.md', () => {
    expect(buildReplyBody(replyTo, '明天发货', 'im_reply_msg')).toEqual({
      msg_id: '7356000000000000101',
      conversation_id: '7356000000000000001',
      to_user_id: '_000user-open-id-A',
      scene: 'im_reply_msg',
      content: { msg_type: 1, text: { text: '明天发货' } },
    });
  });
});

describe('send', () => {
  it('posts the reply to im/send/msg with open_id and a cached client token', async () => {
    const dy = adapter(env, { apiBase: api.baseUrl });
    const before = api.delivered.length;
    const res = await dy.send(reply('明天发货'), ctx());
    const [sent] = api.delivered.slice(before);
    expect(sent?.openId).toBe('_000biz-open-id-B');
    expect(sent?.accessToken).toMatch(/^clt\./);
    expect(sent?.body).toEqual(buildReplyBody(replyTo, '明天发货', 'im_reply_msg'));
    expect(res.platformMessageId).toMatch(/^@srv/);
  });

  it('a URL attachment goes as a link after the text (no image upload)', async () => {
    const dy = adapter(env, { apiBase: api.baseUrl });
    const before = api.delivered.length;
    const message = { ...reply('尺码表见下'), attachments: [{ url: 'https://cdn.example.com/size.png' }] };
    await dy.send(message, ctx());
    const [sent] = api.delivered.slice(before);
    expect(sent?.body).toEqual(
      buildReplyBody(replyTo, '尺码表见下\nsize.png: https://cdn.example.com/size.png', 'im_reply_msg'),
    );
  });

  it('shares one token between sends and between adapter instances (Redis), fetching it once', async () => {
    const pattern = `${env.keyPrefix}:douyin:${CLIENT_KEY}:client-token:*`;
    for (const k of await env.redis.keys(pattern)) await env.redis.del(k);
    const calls = api.tokenCalls;
    const a = adapter(env, { apiBase: api.baseUrl });
    const b = adapter(env, { apiBase: api.baseUrl });
    await Promise.all([a.send(reply('1'), ctx()), b.send(reply('2'), ctx()), a.send(reply('3'), ctx())]);
    await b.send(reply('4'), ctx());
    expect(api.tokenCalls - calls).toBe(1);
    const keys = await env.redis.keys(pattern);
    expect(keys).toHaveLength(1);
    expect(await env.redis.ttl(keys[0]!)).toBeGreaterThan(7200 - 300 - 5); // replaced 5 min before expiry
  });

  it('an expired token is dropped, refetched and the send retried once', async () => {
    const dy = adapter(env, { apiBase: api.baseUrl });
    api.expireAllTokens();
    const calls = api.tokenCalls;
    const before = api.delivered.length;
    await dy.send(reply('after expiry'), ctx());
    expect(api.tokenCalls - calls).toBe(1);
    expect(api.delivered.length - before).toBe(1);
  });

  it('user mode refreshes the account token with the refresh token (form-encoded)', async () => {
    api.refreshTokens.set('rft.seed', '_000biz-open-id-B');
    const dy = adapter(env, { apiBase: api.baseUrl, auth: { kind: 'user', refreshToken: 'rft.seed' } });
    const before = api.delivered.length;
    await dy.send(reply('with a user token'), ctx());
    expect(api.delivered[before]?.accessToken).toMatch(/^act\./);
    expect(api.requests.find((r) => r.path === '/oauth/refresh_token/')?.body).toEqual({
      client_key: CLIENT_KEY,
      grant_type: 'refresh_token',
      refresh_token: 'rft.seed',
    });
  });

  it('an expired refresh token is a permanent failure asking for re-authorization', async () => {
    api.expiredRefreshTokens.add('rft.old');
    const dy = adapter(env, { apiBase: api.baseUrl, auth: { kind: 'user', refreshToken: 'rft.old' } });
    await expect(dy.send(reply('x'), ctx())).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('authorize'),
    });
  });

  it('rate limiting and "system busy" are retryable; a closed reply window is not', async () => {
    const dy = adapter(env, { apiBase: api.baseUrl });
    api.failNextSend(FakeDouyinOpenApi.apiError(28003018, '请求频率过高'));
    await expect(dy.send(reply('x'), ctx())).rejects.toMatchObject({ retryable: true });
    api.failNextSend({ status: 503, body: {} });
    await expect(dy.send(reply('x'), ctx())).rejects.toMatchObject({ retryable: true });
    api.failNextSend(FakeDouyinOpenApi.apiError(28001007, '参数不合法'));
    const err = await dy.send(reply('x'), ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelSendError);
    expect((err as ChannelSendError).retryable).toBe(false);
  });

  it('splits long text and resumes a half-sent reply without repeating parts', async () => {
    const dy = adapter(env, { apiBase: api.baseUrl, maxTextLength: 10 });
    const msg = reply('一二三四五六七八九十abcdefghij');
    const before = api.delivered.length;
    api.failNextSend(
      { status: 200, body: { data: { error_code: 0 }, msg_id: '@pre' } },
      { status: 502, body: {} },
    );
    await expect(dy.send(msg, ctx())).rejects.toMatchObject({ retryable: true });
    await dy.send(msg, ctx());
    expect(api.delivered.slice(before).map((d) => d.body.content.text.text)).toEqual(['abcdefghij']);
  });

  it('a replyTo without the user is refused without retry', async () => {
    const dy = adapter(env, { apiBase: api.baseUrl });
    await expect(dy.send(reply('x', { openId: 'b' }), ctx())).rejects.toMatchObject({ retryable: false });
  });
});
