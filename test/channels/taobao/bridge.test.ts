/**
 * The Qianniu bridge: TOP-signed requests into /webhooks/taobao/:id (verify is paranoid: app key,
 * sign method, timestamp window on an injectable clock, constant-time sign), bridge schema v1 →
 * drafts, and signed replies to the bridge's callback URL (a fake that checks the signature itself).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookRequest } from '../../../src/channels/types.ts';
import { PayloadError, VerificationError } from '../../../src/errors.ts';
import { toInboundMessage, toOutboundMessage } from '../../../src/messages.ts';
import { FakeBridge } from '../../fakes/taobao-top.ts';
import { APP_KEY, adapter, BRIDGE_SECRET, bridgeMessages, redisEnv, silentLogger } from './helpers.ts';

const env = redisEnv();
const bridge = new FakeBridge('qn-bridge', BRIDGE_SECRET);
const NOW = new Date('2024-05-01T04:30:00Z');
let tb: ReturnType<typeof adapter>;
beforeAll(async () => {
  await bridge.start();
  tb = adapter(
    env,
    {
      sellerNick: 'switchboard旗舰店',
      bridge: { appKey: 'qn-bridge', secret: BRIDGE_SECRET, callbackUrl: bridge.callbackUrl },
    },
    { now: () => NOW.getTime() },
  );
});
afterAll(async () => {
  await bridge.close();
  await env.cleanup();
});

function request(body: unknown, opts: Parameters<FakeBridge['signedRequest']>[1] = {}): WebhookRequest {
  const signed = bridge.signedRequest(body, { now: NOW, ...opts });
  return {
    method: 'POST',
    query: Object.fromEntries(new URLSearchParams(signed.query)),
    headers: { 'content-type': 'application/json' },
    rawBody: Buffer.from(signed.body),
    receivedAt: NOW,
  };
}

describe('verify', () => {
  it('accepts a correctly signed request', () => {
    expect(() => tb.verify(request(bridgeMessages.text))).not.toThrow();
  });

  it.each([
    ['another secret', () => request(bridgeMessages.text, { secret: 'not-the-bridge-secret' })],
    ['another app key', () => request(bridgeMessages.text, { appKey: APP_KEY })],
    ['a downgraded sign method (md5)', () => request(bridgeMessages.text, { signMethod: 'md5' })],
    [
      'a timestamp 11 minutes old',
      () => request(bridgeMessages.text, { now: new Date(NOW.getTime() - 11 * 60_000) }),
    ],
    [
      'a timestamp 11 minutes ahead',
      () => request(bridgeMessages.text, { now: new Date(NOW.getTime() + 11 * 60_000) }),
    ],
    [
      'a body changed after signing',
      () => ({
        ...request(bridgeMessages.text),
        rawBody: Buffer.from(JSON.stringify({ ...bridgeMessages.text, text: '改' })),
      }),
    ],
    [
      'no sign',
      () => {
        const r = request(bridgeMessages.text);
        const { sign: _s, ...query } = r.query;
        return { ...r, query };
      },
    ],
    [
      'a malformed timestamp',
      () => {
        const r = request(bridgeMessages.text);
        return { ...r, query: { ...r.query, timestamp: String(NOW.getTime()) } };
      },
    ],
  ])('rejects %s', (_name, make) => {
    expect(() => tb.verify(make())).toThrow(VerificationError);
  });

  it('refuses every webhook call when no bridge is configured', () => {
    expect(() => adapter(env).verify(request(bridgeMessages.text))).toThrow(VerificationError);
  });
});

describe('parse', () => {
  it('refuses a request verify() never accepted', () => {
    expect(() => tb.parse(request(bridgeMessages.text, { secret: 'not-the-bridge-secret' }))).toThrow(
      VerificationError,
    );
  });

  it('a text message becomes a draft in the (seller, buyer) conversation and answers {"success":true}', () => {
    const res = tb.parse(request(bridgeMessages.text));
    expect(res.response).toEqual({
      status: 200,
      body: '{"success":true}',
      headers: { 'content-type': 'application/json' },
    });
    expect(toInboundMessage(res.messages[0]!)).toMatchObject({
      dedupeKey: 'taobao:tb:im-qn-7f3a9c',
      conversationId: 'taobao:tb:switchboard旗舰店:AAHk5d-EAAeGwJedwSHOtHmG',
      sender: { id: 'AAHk5d-EAAeGwJedwSHOtHmG', name: 't**1' },
      kind: 'text',
      text: '退款什么时候到账？',
      replyTo: {
        sellerNick: 'switchboard旗舰店',
        buyerNick: 't**1',
        buyerOpenUid: 'AAHk5d-EAAeGwJedwSHOtHmG',
        msgId: 'qn-7f3a9c',
      },
    });
  });

  it('a redelivered message has the same platformMessageId', () => {
    expect(tb.parse(request(bridgeMessages.text)).messages[0]?.platformMessageId).toBe(
      tb.parse(request(bridgeMessages.text)).messages[0]?.platformMessageId,
    );
  });

  it('images carry their URL; other message types and pings are ignored by name', () => {
    expect(tb.parse(request(bridgeMessages.image)).messages[0]).toMatchObject({
      kind: 'image',
      attachments: [{ url: 'https://img.alicdn.com/imgextra/i1/fake.jpg' }],
      platformChatId: 'switchboard旗舰店:t**1',
    });
    expect(tb.parse(request(bridgeMessages.item_card)).ignored).toEqual(['unsupported:item']);
    expect(tb.parse(request(bridgeMessages.ping))).toMatchObject({ messages: [], ignored: ['bridge:ping'] });
  });

  it('bad payloads are PayloadErrors naming the field', () => {
    const field = (body: unknown) => {
      try {
        tb.parse(request(body));
      } catch (err) {
        expect(err).toBeInstanceOf(PayloadError);
        return (err as PayloadError).details?.field;
      }
      return 'no error';
    };
    expect(field('[1]')).toBe('body');
    expect(field({ type: 'other' })).toBe('type');
    expect(field({ ...bridgeMessages.text, msg_id: '' })).toBe('msg_id');
    expect(field({ ...bridgeMessages.text, buyer_nick: undefined, buyer_open_uid: undefined })).toBe(
      'buyer_nick',
    );
    expect(field({ ...bridgeMessages.text, text: ' ' })).toBe('text');
    expect(field({ ...bridgeMessages.image, url: 'javascript:alert(1)' })).toBe('url');
  });
});

describe('send (reply through the bridge callback)', () => {
  const realNow = () => new Date();
  let seq = 0;
  const reply = (replyTo: Record<string, unknown>, text = '预计 1–3 个工作日到账。') =>
    toOutboundMessage({
      conversationId: 'taobao:tb:switchboard旗舰店:AAHk5d-EAAeGwJedwSHOtHmG',
      channel: 'taobao',
      channelId: 'tb',
      replyTo,
      kind: 'text',
      text,
      idempotencyKey: `tb-${++seq}`,
      traceId: 't',
    });
  const ctx = () => ({ logger: silentLogger, signal: new AbortController().signal });
  // The fake bridge checks timestamps against the real clock: send with the real one.
  const live = () =>
    adapter(env, { bridge: { appKey: 'qn-bridge', secret: BRIDGE_SECRET, callbackUrl: bridge.callbackUrl } });

  it('POSTs the signed reply the bridge verifies, with the idempotency key', async () => {
    const draft = tb.parse(request(bridgeMessages.text)).messages[0]!;
    const res = await live().send(reply(draft.replyTo), ctx());
    expect(bridge.rejected).toEqual([]);
    const got = bridge.accepted.at(-1)!;
    expect(got.body).toEqual({
      type: 'reply',
      seller_nick: 'switchboard旗舰店',
      buyer_nick: 't**1',
      buyer_open_uid: 'AAHk5d-EAAeGwJedwSHOtHmG',
      msg_type: 'text',
      text: '预计 1–3 个工作日到账。',
      in_reply_to: 'qn-7f3a9c',
      idempotency_key: `tb-${seq}`,
      sent_at: expect.any(Number),
    });
    expect(got.query).toMatchObject({ app_key: 'qn-bridge', sign_method: 'hmac-sha256' });
    expect(
      Math.abs(Date.parse(`${got.query.timestamp!.replace(' ', 'T')}+08:00`) - realNow().getTime()),
    ).toBeLessThan(5000);
    expect(got.idempotencyKey).toBe(`tb-${seq}`);
    expect(res.platformMessageId).toMatch(/^qn-\d+$/);
  });

  it('URL attachments ride along for the bridge to send; a media id alone cannot', async () => {
    const draft = tb.parse(request(bridgeMessages.text)).messages[0]!;
    const message = {
      ...reply(draft.replyTo, ''),
      attachments: [
        { url: 'https://cdn.example.com/size-chart.png', mime: 'image/png', name: 'Size chart' },
        { mediaId: 'only-a-platform-id' },
      ],
    };
    await live().send(message, ctx());
    expect(bridge.rejected).toEqual([]);
    expect(bridge.accepted.at(-1)!.body).toMatchObject({
      text: '',
      attachments: [{ url: 'https://cdn.example.com/size-chart.png', mime: 'image/png', name: 'Size chart' }],
    });
    // Nothing at all to send is still refused.
    await expect(
      live().send({ ...reply(draft.replyTo, ''), attachments: [{ mediaId: 'x' }] }, ctx()),
    ).rejects.toMatchObject({ retryable: false });
  });

  it('a reply signed with a stale clock is refused by the bridge (its check works) and not retried', async () => {
    const stale = adapter(
      env,
      { bridge: { appKey: 'qn-bridge', secret: BRIDGE_SECRET, callbackUrl: bridge.callbackUrl } },
      { now: () => Date.now() - 3_600_000 },
    );
    await expect(stale.send(reply({ sellerNick: 's', buyerNick: 'b' }), ctx())).rejects.toMatchObject({
      retryable: false,
    });
    expect(bridge.rejected.at(-1)).toBe('timestamp');
  });

  it('5xx and 429 from the bridge are retryable, 4xx are not', async () => {
    bridge.failNext(503);
    await expect(live().send(reply({ buyerNick: 'b' }), ctx())).rejects.toMatchObject({ retryable: true });
    bridge.failNext(429);
    await expect(live().send(reply({ buyerNick: 'b' }), ctx())).rejects.toMatchObject({ retryable: true });
    bridge.failNext(400);
    await expect(live().send(reply({ buyerNick: 'b' }), ctx())).rejects.toMatchObject({ retryable: false });
  });

  it('without a bridge, or without a buyer, a reply cannot be delivered (not retryable)', async () => {
    await expect(adapter(env).send(reply({ buyerNick: 'b' }), ctx())).rejects.toMatchObject({
      retryable: false,
    });
    await expect(live().send(reply({ sellerNick: 's' }), ctx())).rejects.toMatchObject({ retryable: false });
  });
});
