/**
 * The official WeCom vectors through the adapter's verify + parse, and every one-character
 * tampering the brief lists: signature, timestamp, ciphertext, receive id (plus length and replay).
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { encrypt, getSignature } from '@wecom/crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createWeComAdapter } from '../../../src/channels/wecom/index.ts';
import { PayloadError, VerificationError } from '../../../src/errors.ts';
import { toInboundMessage } from '../../../src/messages.ts';
import { buildWeComPost, textXml, webhookRequest } from '../../fakes/wecom-callback.ts';
import { adapterDeps, redisEnv, vectors, wecomConfig } from './helpers.ts';

const env = redisEnv();
afterAll(() => env.cleanup());

const V = vectors.verifyUrl_official;
const M = vectors.decryptMsg_official;
const config = wecomConfig();
const adapter = createWeComAdapter('wc', config, adapterDeps(env));
const keys = { token: M.token, encodingAESKey: M.encodingAESKey, receiveId: M.receiveid };
/** The official requests were made in 2014: the request clock says so. */
const at = (ts: string) => new Date(Number(ts) * 1000);

function officialGet(over: Record<string, string> = {}) {
  const query = {
    msg_signature: V.msg_signature,
    timestamp: V.timestamp,
    nonce: V.nonce,
    echostr: V.echostr,
    ...over,
  };
  return webhookRequest('GET', { query }, at(V.timestamp));
}

function officialPost(over: { query?: Record<string, string>; body?: string } = {}) {
  const query = { msg_signature: M.msg_signature, timestamp: M.timestamp, nonce: M.nonce, ...over.query };
  return webhookRequest('POST', { query, rawBody: Buffer.from(over.body ?? M.body_xml) }, at(M.timestamp));
}

/** Change one character, keeping the alphabet (hex stays hex, base64 stays base64). */
function flip(s: string, index: number): string {
  const c = s[index]!;
  const next = c === 'a' ? 'b' : c === '0' ? '1' : /[0-9]/.test(c) ? '0' : 'a';
  return s.slice(0, index) + next + s.slice(index + 1);
}

describe('URL verification (GET, official vector)', () => {
  it('answers the bare official plaintext', async () => {
    const req = officialGet();
    adapter.verify(req);
    const result = await adapter.parse(req);
    expect(result.messages).toEqual([]);
    expect(result.response?.status).toBe(200);
    expect(result.response?.body).toBe(V.expected_plaintext);
    expect(result.response?.body).toBe('1616140317555161061');
  });

  it('restores + signs turned into spaces by a form decoder', async () => {
    const req = officialGet({ echostr: V.echostr.replaceAll('+', ' ') });
    const result = await adapter.parse(req);
    expect(result.response?.body).toBe('1616140317555161061');
  });

  it.each([
    ['msg_signature', () => officialGet({ msg_signature: flip(V.msg_signature, 5) })],
    ['timestamp', () => officialGet({ timestamp: String(Number(V.timestamp) + 1) })],
    ['nonce', () => officialGet({ nonce: flip(V.nonce, 0) })],
    ['echostr', () => officialGet({ echostr: flip(V.echostr, 10) })],
  ])('rejects a one-character change to %s', (_name, make) => {
    expect(() => adapter.verify(make())).toThrow(VerificationError);
  });

  it('rejects a correctly signed echostr encrypted for another receive id', () => {
    const echostr = encrypt(V.encodingAESKey, V.expected_plaintext, 'wx5823bf96d3bd56c8');
    const msg_signature = getSignature(V.token, V.timestamp, V.nonce, echostr);
    expect(() => adapter.verify(officialGet({ echostr, msg_signature }))).toThrow(/receive id/);
  });

  it('rejects missing parameters', () => {
    expect(() =>
      adapter.verify(webhookRequest('GET', { query: { timestamp: V.timestamp, nonce: V.nonce } })),
    ).toThrow(VerificationError);
  });
});

describe('encrypted message (POST, official vector)', () => {
  it('is accepted and becomes the right draft and InboundMessage', async () => {
    const req = officialPost();
    adapter.verify(req);
    const result = await adapter.parse(req);
    expect(result.response).toEqual({ status: 200, body: '' });
    expect(result.messages).toHaveLength(1);
    const draft = result.messages[0]!;
    expect(draft).toMatchObject({
      channel: 'wecom',
      channelId: 'wc',
      platformMessageId: '4561255354251345929',
      platformChatId: 'app:218:mycreate',
      sender: { id: 'mycreate' },
      kind: 'text',
      text: 'hello',
      replyTo: { mode: 'app', touser: 'mycreate', agentid: 218 },
    });
    const inbound = toInboundMessage(draft);
    // 4561255354251345929 > 2^53: as a JS number it would read …5930.
    expect(inbound.dedupeKey).toBe('wecom:wc:4561255354251345929');
    expect(inbound.conversationId).toBe('wecom:wc:app:218:mycreate');
    expect((inbound.raw as Record<string, unknown>).MsgId).toBe('4561255354251345929');
  });

  it('WeCom retries (3 identical callbacks, 5 s apart) verify and map to one message id', async () => {
    const ids = [];
    for (const offset of [0, 5_000, 10_000]) {
      const req = { ...officialPost(), receivedAt: new Date(Number(M.timestamp) * 1000 + offset) };
      adapter.verify(req);
      ids.push(toInboundMessage((await adapter.parse(req)).messages[0]!).id);
    }
    expect(new Set(ids).size).toBe(1);
  });

  it('accepts the JSON envelope with the same crypto', async () => {
    const body = JSON.stringify({ ToUserName: M.receiveid, Encrypt: M.encrypt, AgentID: 218 });
    const result = await adapter.parse(officialPost({ body }));
    expect(result.messages[0]?.platformMessageId).toBe('4561255354251345929');
  });

  it.each([
    ['msg_signature', () => officialPost({ query: { msg_signature: flip(M.msg_signature, 0) } })],
    ['timestamp', () => officialPost({ query: { timestamp: String(Number(M.timestamp) - 1) } })],
    ['ciphertext', () => officialPost({ body: M.body_xml.replace(M.encrypt, flip(M.encrypt, 40)) })],
  ])('rejects a one-character change to %s', async (_name, make) => {
    const req = make();
    expect(() => adapter.verify(req)).toThrow(VerificationError);
    // parse() re-verifies a request verify() did not accept.
    await expect(adapter.parse(req)).rejects.toThrow(VerificationError);
  });

  it('rejects a correctly signed message for another receive id (one character changed)', () => {
    const fake = buildWeComPost({ ...keys, receiveId: 'wx5823bf96d3bd56c8' }, M.expected_plaintext, {
      timestamp: M.timestamp,
      nonce: M.nonce,
    });
    expect(() => adapter.verify(webhookRequest('POST', fake, at(M.timestamp)))).toThrow(/receive id/);
    // The same message for the right receive id passes: the check is on the id, not the builder.
    const good = buildWeComPost(keys, M.expected_plaintext, { timestamp: M.timestamp, nonce: M.nonce });
    expect(() => adapter.verify(webhookRequest('POST', good, at(M.timestamp)))).not.toThrow();
  });

  it('rejects a signed ciphertext whose length field lies', () => {
    const message = Buffer.from(textXml(M.receiveid, 'u1', 'hi', '1'));
    const cipher = rawEncrypt(M.encodingAESKey, message, M.receiveid, message.length + 3);
    const msg_signature = getSignature(M.token, M.timestamp, M.nonce, cipher);
    const body = `<xml><Encrypt><![CDATA[${cipher}]]></Encrypt></xml>`;
    expect(() => adapter.verify(officialPost({ query: { msg_signature }, body }))).toThrow(VerificationError);
  });

  it('rejects a replay outside the timestamp window (real clock vs. a 2014 request)', () => {
    const req = { ...officialPost(), receivedAt: new Date() };
    expect(() => adapter.verify(req)).toThrow(/timestamp outside/);
  });

  it('answers 400 naming the field for an envelope without Encrypt, before any crypto', () => {
    const req = officialPost({ body: '<xml><ToUserName>x</ToUserName></xml>' });
    const err = (() => {
      try {
        adapter.verify(req);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(PayloadError);
    expect((err as PayloadError).details).toEqual({ field: 'Encrypt' });
  });

  it('refuses DOCTYPE declarations', () => {
    const body = `<!DOCTYPE xml [<!ENTITY a "b">]><xml><Encrypt>&a;</Encrypt></xml>`;
    expect(() => adapter.verify(officialPost({ body }))).toThrow(PayloadError);
  });
});

/** WeCom's plaintext layout with a chosen length field: random16 | len | msg | receiveid | pkcs7(32). */
function rawEncrypt(aesKey: string, message: Buffer, receiveId: string, declaredLength: number): string {
  const key = Buffer.from(`${aesKey}=`, 'base64');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(declaredLength);
  const plain = Buffer.concat([randomBytes(16), len, message, Buffer.from(receiveId)]);
  const pad = 32 - (plain.length % 32);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([
    cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])),
    cipher.final(),
  ]).toString('base64');
}
