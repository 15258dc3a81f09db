/**
 * Douyin webhook ingress: the X-Douyin-Signature check on the raw bytes (research vector), the
 * verify_webhook handshake echo, im_receive_msg with content as object or JSON string, and the
 * events that must not become jobs (our own replies, im_send_msg).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { douyinSignature } from '../../../src/channels/douyin/index.ts';
import { PayloadError, VerificationError } from '../../../src/errors.ts';
import { toInboundMessage } from '../../../src/messages.ts';
import { adapter, CLIENT_KEY, events, redisEnv, signedRequest, vectors } from './helpers.ts';

const env = redisEnv();
afterAll(() => env.cleanup());
const dy = adapter(env);

describe('verify: X-Douyin-Signature = sha1(client_secret + raw body)', () => {
  const V = vectors.webhookSignature_selfComputed;

  it('matches the research vector (self-computed, sha1sum-checked)', () => {
    expect(douyinSignature(V.client_secret, Buffer.from(V.raw_body))).toBe(V.x_douyin_signature);
  });

  it('accepts the vector request as received, upper-case hex too', () => {
    const a = adapter(env, { clientSecret: V.client_secret });
    const req = {
      method: 'POST',
      query: {},
      headers: { 'x-douyin-signature': V.x_douyin_signature },
      rawBody: Buffer.from(V.raw_body),
      receivedAt: new Date(),
    };
    expect(() => a.verify(req)).not.toThrow();
    expect(() =>
      a.verify({ ...req, headers: { 'x-douyin-signature': V.x_douyin_signature.toUpperCase() } }),
    ).not.toThrow();
  });

  it('hashes the raw bytes: the same JSON re-serialized with other spacing fails', () => {
    const a = adapter(env, { clientSecret: V.client_secret });
    const respaced = JSON.stringify(JSON.parse(V.raw_body), null, 1);
    const req = {
      method: 'POST',
      query: {},
      headers: { 'x-douyin-signature': V.x_douyin_signature },
      rawBody: Buffer.from(respaced),
      receivedAt: new Date(),
    };
    expect(() => a.verify(req)).toThrow(VerificationError);
  });

  it.each([
    ['a wrong secret', () => signedRequest(events.text, { secret: 'other-secret' })],
    ['a missing header', () => ({ ...signedRequest(events.text), headers: {} })],
    [
      'a non-hex header',
      () => ({ ...signedRequest(events.text), headers: { 'x-douyin-signature': 'z'.repeat(40) } }),
    ],
    [
      'a tampered body',
      () => ({
        ...signedRequest(events.text),
        rawBody: Buffer.from(JSON.stringify(events.text).replace('发货', '退款')),
      }),
    ],
  ])('rejects %s', (_name, make) => {
    expect(() => dy.verify(make())).toThrow(VerificationError);
  });
});

describe('parse', () => {
  it('refuses a request verify() never accepted', () => {
    expect(() => dy.parse(signedRequest(events.text, { secret: 'other-secret' }))).toThrow(VerificationError);
  });

  it('answers verify_webhook by echoing the challenge as JSON, queueing nothing', () => {
    const res = dy.parse(signedRequest(vectors.verifyWebhook_handshake.request_body));
    expect(res.messages).toEqual([]);
    expect(res.response?.status).toBe(200);
    expect(res.response?.headers?.['content-type']).toBe('application/json');
    expect(JSON.parse(String(res.response?.body))).toEqual(vectors.verifyWebhook_handshake.response_body);
  });

  it('echoes a string challenge from a string content unchanged', () => {
    const res = dy.parse(signedRequest(events.verify_webhook_string_challenge));
    expect(res.response?.body).toBe('{"challenge":"c-98765"}');
  });

  it('im_receive_msg text becomes a draft with the reply fields in replyTo', () => {
    const [d] = dy.parse(signedRequest(events.text, { msgId: 'm-1' })).messages;
    expect(toInboundMessage(d!)).toMatchObject({
      dedupeKey: 'douyin:dy:7356000000000000101',
      conversationId: 'douyin:dy:7356000000000000001',
      sender: { id: '_000user-open-id-A', name: '小王' },
      kind: 'text',
      text: '请问什么时候发货？',
      replyTo: {
        openId: '_000biz-open-id-B',
        toUserId: '_000user-open-id-A',
        conversationId: '7356000000000000001',
        msgId: '7356000000000000101',
      },
      raw: events.text,
    });
  });

  it('content as a JSON string gives the same draft as content as an object', () => {
    const a = dy.parse(signedRequest(events.text)).messages[0]!;
    const b = dy.parse(signedRequest(events.text_content_as_string)).messages[0]!;
    expect({ ...b, raw: undefined }).toEqual({ ...a, raw: undefined });
  });

  it('a platform retry (same Msg-Id, same body) yields the same platformMessageId', () => {
    const first = dy.parse(signedRequest(events.text, { msgId: 'retry-1' })).messages[0]!;
    const again = dy.parse(signedRequest(events.text, { msgId: 'retry-1' })).messages[0]!;
    expect(again.platformMessageId).toBe(first.platformMessageId);
  });

  it('falls back to the Msg-Id header when the message id is missing', () => {
    const body = { ...events.text, content: { ...events.text.content, server_message_id: undefined } };
    expect(dy.parse(signedRequest(body, { msgId: 'h-42' })).messages[0]?.platformMessageId).toBe(
      'msgid-h-42',
    );
    try {
      const signed = signedRequest(body);
      const { 'msg-id': _dropped, ...withoutMsgId } = signed.headers;
      dy.parse({ ...signed, headers: withoutMsgId });
      expect.unreachable();
    } catch (err) {
      expect((err as PayloadError).details).toEqual({ field: 'content.server_message_id' });
    }
  });

  it('images, videos and cards become attachments of the right kind', () => {
    expect(dy.parse(signedRequest(events.image)).messages[0]).toMatchObject({
      kind: 'image',
      attachments: [{ name: 'image', mime: 'image/*' }],
    });
    expect(dy.parse(signedRequest(events.video)).messages[0]).toMatchObject({
      kind: 'video',
      attachments: [{ name: 'video' }],
    });
    expect(dy.parse(signedRequest(events.card)).messages[0]).toMatchObject({
      kind: 'file',
      attachments: [{ name: 'retain_consult_card' }],
    });
  });

  it('never loops: our own replies (source = client key) and im_send_msg are ignored', () => {
    expect(events.own_reply_echo.content.source).toBe(CLIENT_KEY);
    expect(dy.parse(signedRequest(events.own_reply_echo))).toEqual({
      messages: [],
      ignored: ['echo:own_client'],
    });
    expect(dy.parse(signedRequest(events.im_send_msg))).toEqual({
      messages: [],
      ignored: ['event:im_send_msg'],
    });
  });

  it('unknown events and message types are ignored by name', () => {
    expect(dy.parse(signedRequest(events.enter_direct_msg)).ignored).toEqual(['event:im_enter_direct_msg']);
    expect(dy.parse(signedRequest(events.other)).ignored).toEqual(['unsupported:other']);
  });

  it('bad payloads are PayloadErrors naming the field', () => {
    const field = (body: unknown) => {
      try {
        dy.parse(signedRequest(body));
      } catch (err) {
        expect(err).toBeInstanceOf(PayloadError);
        return (err as PayloadError).details?.field;
      }
      return 'no error';
    };
    expect(field('not json')).toBe('body');
    expect(field({ content: {} })).toBe('event');
    expect(field({ ...events.text, content: '{broken' })).toBe('content');
    expect(field({ ...events.text, from_user_id: '' })).toBe('from_user_id');
    expect(field({ event: 'verify_webhook', content: {} })).toBe('content.challenge');
  });
});
