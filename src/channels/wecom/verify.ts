/**
 * Verify a WeCom callback: the URL-verification GET and the encrypted POST (XML or JSON body).
 *
 * Pure: the request and the settings in, the decrypted plaintext out, `VerificationError` (401) for
 * anything that does not prove it comes from WeCom for this corp, `PayloadError` (400) for an
 * envelope that is not even shaped like one. The clock is a parameter.
 *
 * @see https://developer.work.weixin.qq.com/document/path/90930 (接收消息与事件 · 回调配置)
 * @see https://developer.work.weixin.qq.com/document/path/90968 (加解密方案说明)
 */
import { PayloadError, VerificationError } from '../../errors.ts';
import type { WebhookRequest } from '../types.ts';
import { openEnvelope, restoreBase64, signatureMatches } from './crypto.ts';
import { parseXmlRoot, str } from './xml.ts';

export interface WeComVerifyParams {
  token: string;
  encodingAESKey: string;
  corpId: string;
  /** Max |now − timestamp| in ms; 0 disables. */
  timestampToleranceMs: number;
  /** Current time in ms. */
  now: number;
}

export type VerifiedWeCom =
  /** GET handshake: answer `plaintext` verbatim. */
  | { kind: 'echo'; plaintext: string }
  /** POST: the decrypted inner XML, plus the outer envelope's AgentID if it had one. */
  | { kind: 'message'; plaintext: string; agentId?: string };

export function verifyWeComRequest(req: WebhookRequest, p: WeComVerifyParams): VerifiedWeCom {
  const signature = req.query.msg_signature;
  const timestamp = req.query.timestamp;
  const nonce = req.query.nonce;
  if (!signature || !timestamp || !nonce) {
    throw new VerificationError('wecom: msg_signature, timestamp and nonce are required');
  }
  checkTimestamp(timestamp, p);

  if (req.method === 'GET') {
    const echostr = req.query.echostr;
    if (!echostr) throw new VerificationError('wecom: echostr is required for URL verification');
    const cipher = restoreBase64(echostr);
    if (!signatureMatches(p.token, timestamp, nonce, cipher, signature)) {
      throw new VerificationError('wecom: msg_signature mismatch');
    }
    return { kind: 'echo', plaintext: openEnvelope(p.encodingAESKey, cipher, p.corpId) };
  }

  if (req.method !== 'POST')
    throw new PayloadError(`wecom: method ${req.method} not allowed`, { status: 405 });
  const envelope = readEnvelope(req.rawBody);
  if (!signatureMatches(p.token, timestamp, nonce, envelope.encrypt, signature)) {
    throw new VerificationError('wecom: msg_signature mismatch');
  }
  const plaintext = openEnvelope(p.encodingAESKey, envelope.encrypt, p.corpId);
  return { kind: 'message', plaintext, agentId: envelope.agentId };
}

function checkTimestamp(timestamp: string, p: WeComVerifyParams): void {
  if (!/^\d{1,12}$/.test(timestamp)) throw new VerificationError('wecom: timestamp is not a unix time');
  if (p.timestampToleranceMs > 0 && Math.abs(p.now - Number(timestamp) * 1000) > p.timestampToleranceMs) {
    throw new VerificationError('wecom: timestamp outside the accepted window (replay or clock skew)');
  }
}

/**
 * The outer body: `<xml><ToUserName/><Encrypt/><AgentID/></xml>`, or the JSON variant
 * `{"ToUserName","Encrypt","AgentID"}` (same crypto).
 */
export function readEnvelope(rawBody: Buffer): { encrypt: string; agentId?: string } {
  const text = rawBody.toString('utf8').trim();
  if (text.length === 0) throw new PayloadError('wecom: empty callback body', { field: 'Encrypt' });
  let encrypt: unknown;
  let agentId: unknown;
  if (text.startsWith('{')) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new PayloadError('wecom: callback body is not valid JSON', { field: 'body', cause: err });
    }
    const o = (body ?? {}) as Record<string, unknown>;
    encrypt = o.Encrypt;
    agentId = o.AgentID;
  } else {
    const fields = parseXmlRoot(text, 'body');
    encrypt = str(fields, 'Encrypt');
    agentId = str(fields, 'AgentID');
  }
  if (typeof encrypt !== 'string' || encrypt.length === 0) {
    throw new PayloadError('wecom: callback body has no Encrypt', { field: 'Encrypt' });
  }
  const agent = typeof agentId === 'string' || typeof agentId === 'number' ? String(agentId) : undefined;
  return { encrypt: restoreBase64(encrypt.trim()), agentId: agent || undefined };
}
