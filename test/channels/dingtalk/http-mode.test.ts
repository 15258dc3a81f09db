/**
 * HTTP mode ("outgoing" robot callbacks): the `timestamp`/`sign` headers against the sign vector
 * (self-computed from the doc's example inputs, cross-checked with openssl), the 1-hour window on
 * an injectable clock, and the body → draft normalization.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createDingTalkAdapter } from '../../../src/channels/dingtalk/index.ts';
import { parseRobotMessage } from '../../../src/channels/dingtalk/parse.ts';
import { dingtalkSign, verifyDingTalkSign } from '../../../src/channels/dingtalk/verify.ts';
import type { WebhookRequest } from '../../../src/channels/types.ts';
import { PayloadError, VerificationError } from '../../../src/errors.ts';
import { toInboundMessage } from '../../../src/messages.ts';
import { robotMessage } from '../../fakes/dingtalk-server.ts';
import { adapterDeps, dingtalkConfig, redisEnv, vectors } from './helpers.ts';

const env = redisEnv();
afterAll(() => env.cleanup());

const V = vectors.robotCallbackSign_selfComputed;
const HOUR = 3_600_000;
const t0 = Number(V.timestamp_ms);

describe('verifyDingTalkSign (pure)', () => {
  const params = (now: number) => ({ secret: V.appSecret, now, toleranceMs: HOUR });

  it('computes the vector sign', () => {
    expect(dingtalkSign(V.timestamp_ms, V.appSecret)).toBe(V.sign_base64);
  });

  it('accepts the good sign, also URL-encoded, anywhere inside the hour', () => {
    expect(() =>
      verifyDingTalkSign({ timestamp: V.timestamp_ms, sign: V.sign_base64 }, params(t0)),
    ).not.toThrow();
    expect(() =>
      verifyDingTalkSign({ timestamp: V.timestamp_ms, sign: V.sign_urlencoded }, params(t0 + HOUR)),
    ).not.toThrow();
    expect(() =>
      verifyDingTalkSign({ timestamp: V.timestamp_ms, sign: V.sign_base64 }, params(t0 - HOUR)),
    ).not.toThrow();
  });

  it.each([
    ['a changed character', { timestamp: V.timestamp_ms, sign: V.sign_base64.replace('hmP', 'hmQ') }, t0],
    // Same decoded bytes as the real sign (spare low bits of the last base64 digit): still refused.
    [
      'a non-canonical base64 spelling',
      { timestamp: V.timestamp_ms, sign: V.sign_base64.replace('ZQM=', 'ZQN=') },
      t0,
    ],
    ['another timestamp', { timestamp: String(t0 + 1), sign: V.sign_base64 }, t0],
    ['a timestamp over an hour old', { timestamp: V.timestamp_ms, sign: V.sign_base64 }, t0 + HOUR + 1],
    ['a timestamp over an hour ahead', { timestamp: V.timestamp_ms, sign: V.sign_base64 }, t0 - HOUR - 1],
    ['no sign', { timestamp: V.timestamp_ms }, t0],
    ['no timestamp', { sign: V.sign_base64 }, t0],
    ['a non-numeric timestamp', { timestamp: 'yesterday', sign: V.sign_base64 }, t0],
  ])('rejects %s', (_what, headers, now) => {
    expect(() => verifyDingTalkSign(headers, params(now))).toThrow(VerificationError);
  });

  it('rejects a sign made with another secret', () => {
    const sign = dingtalkSign(V.timestamp_ms, 'other secret');
    expect(() => verifyDingTalkSign({ timestamp: V.timestamp_ms, sign }, params(t0))).toThrow(
      VerificationError,
    );
  });
});

describe('HTTP-mode adapter', () => {
  const config = dingtalkConfig({ mode: 'http', clientSecret: V.appSecret });
  const adapter = createDingTalkAdapter('dt', config, adapterDeps(env));
  const body = robotMessage({ msgId: 'msgHTTP1', text: { content: '  退货  ' } });
  const request = (
    headers: Record<string, string>,
    receivedAt = new Date(t0 + 5000),
    raw = JSON.stringify(body),
  ): WebhookRequest => ({
    method: 'POST',
    query: {},
    headers,
    rawBody: Buffer.from(raw),
    receivedAt,
  });

  it('verifies against the request clock and parses the message', () => {
    const req = request({ timestamp: V.timestamp_ms, sign: V.sign_base64 });
    adapter.verify(req);
    const result = adapter.parse(req);
    expect(result.response).toEqual({ status: 200, body: '' });
    const m = toInboundMessage(result.messages[0]!);
    expect(m).toMatchObject({ dedupeKey: 'dingtalk:dt:msgHTTP1', kind: 'text', text: '退货' });
  });

  it('a replay two hours later is refused', () => {
    expect(() =>
      adapter.verify(request({ timestamp: V.timestamp_ms, sign: V.sign_base64 }, new Date(t0 + 2 * HOUR))),
    ).toThrow(/outside the accepted window/);
  });

  it('the clock is injectable', () => {
    const clocked = createDingTalkAdapter('dt', config, adapterDeps(env), { now: () => t0 });
    expect(() =>
      clocked.verify(request({ timestamp: V.timestamp_ms, sign: V.sign_base64 }, new Date())),
    ).not.toThrow();
  });

  it('uses appSecret for the sign when configured', () => {
    const a = createDingTalkAdapter(
      'dt',
      dingtalkConfig({ mode: 'http', appSecret: V.appSecret }),
      adapterDeps(env),
    );
    expect(() => a.verify(request({ timestamp: V.timestamp_ms, sign: V.sign_base64 }))).not.toThrow();
  });

  it('a stream-mode channel refuses HTTP callbacks', () => {
    const streamAdapter = createDingTalkAdapter(
      'dt',
      dingtalkConfig({ mode: 'stream', clientSecret: V.appSecret }),
      adapterDeps(env),
    );
    expect(() => streamAdapter.verify(request({ timestamp: V.timestamp_ms, sign: V.sign_base64 }))).toThrow(
      VerificationError,
    );
  });

  it('a body that is not JSON is a 400 naming the body', () => {
    const req = request({ timestamp: V.timestamp_ms, sign: V.sign_base64 }, undefined, '{nope');
    expect(() => adapter.parse(req)).toThrow(PayloadError);
    // parse() on a request verify() never saw verifies it first.
    expect(() => adapter.parse(request({}))).toThrow(VerificationError);
  });
});

describe('parseRobotMessage', () => {
  const at = new Date();
  it('picture, audio (with recognition) and file messages', () => {
    const pic = parseRobotMessage(
      robotMessage({ msgtype: 'picture', content: { downloadCode: 'DC1' } }),
      'dt',
      at,
    );
    expect(pic).toMatchObject({ draft: { kind: 'image', attachments: [{ mediaId: 'DC1' }] } });
    const audio = parseRobotMessage(
      robotMessage({ msgtype: 'audio', content: { downloadCode: 'DC2', recognition: '查订单' } }),
      'dt',
      at,
    );
    expect(audio).toMatchObject({ draft: { kind: 'voice', text: '查订单' } });
    const file = parseRobotMessage(
      robotMessage({ msgtype: 'file', content: { downloadCode: 'DC3', fileName: 'a.pdf' } }),
      'dt',
      at,
    );
    expect(file).toMatchObject({ draft: { kind: 'file', attachments: [{ mediaId: 'DC3', name: 'a.pdf' }] } });
  });

  it('rich text joins its text parts and keeps pictures', () => {
    const r = parseRobotMessage(
      robotMessage({
        msgtype: 'richText',
        content: {
          richText: [{ text: '看这个 ' }, { downloadCode: 'P1', type: 'picture' }, { text: '坏了' }],
        },
      }),
      'dt',
      at,
    );
    expect(r).toMatchObject({
      draft: { kind: 'text', text: '看这个 坏了', attachments: [{ mediaId: 'P1' }] },
    });
  });

  it('unknown types are ignored explicitly; missing ids name the field', () => {
    expect(parseRobotMessage(robotMessage({ msgtype: 'interactiveCard' }), 'dt', at)).toEqual({
      ignored: 'unsupported:interactiveCard',
    });
    for (const field of ['msgId', 'conversationId']) {
      try {
        parseRobotMessage(robotMessage({ [field]: undefined }), 'dt', at);
        expect.unreachable();
      } catch (err) {
        expect((err as PayloadError).details).toEqual({ field });
      }
    }
  });
});
