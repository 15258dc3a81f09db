/**
 * Builds WeCom callbacks the way the platform does: encrypt the inner XML with the app's
 * EncodingAESKey and receive id, sign (token, timestamp, nonce, Encrypt), wrap in the XML (or JSON)
 * envelope. Uses `@wecom/crypto`, whose output is byte-exact with the official vectors.
 */
import { randomBytes } from 'node:crypto';
import { encrypt, getSignature } from '@wecom/crypto';
import type { WebhookRequest } from '../../src/channels/types.ts';

export interface WeComCallbackKeys {
  token: string;
  encodingAESKey: string;
  /** Receive id put into the ciphertext (the corp id for a self-built app). */
  receiveId: string;
}

export interface BuiltCallback {
  query: Record<string, string>;
  rawBody: Buffer;
}

export function buildWeComPost(
  keys: WeComCallbackKeys,
  innerXml: string,
  opts: { timestamp?: string; nonce?: string; format?: 'xml' | 'json'; agentId?: string } = {},
): BuiltCallback {
  const timestamp = opts.timestamp ?? String(Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? String(randomBytes(4).readUInt32BE(0));
  const cipher = encrypt(keys.encodingAESKey, innerXml, keys.receiveId);
  const msg_signature = getSignature(keys.token, timestamp, nonce, cipher);
  const agent = opts.agentId ?? '1000002';
  const rawBody =
    opts.format === 'json'
      ? Buffer.from(JSON.stringify({ ToUserName: keys.receiveId, Encrypt: cipher, AgentID: agent }))
      : Buffer.from(
          `<xml><ToUserName><![CDATA[${keys.receiveId}]]></ToUserName><Encrypt><![CDATA[${cipher}]]></Encrypt><AgentID><![CDATA[${agent}]]></AgentID></xml>`,
        );
  return { query: { msg_signature, timestamp, nonce }, rawBody };
}

export function webhookRequest(
  method: 'GET' | 'POST',
  built: { query: Record<string, string>; rawBody?: Buffer },
  receivedAt = new Date(),
  headers: Record<string, string> = {},
): WebhookRequest {
  return { method, query: built.query, headers, rawBody: built.rawBody ?? Buffer.alloc(0), receivedAt };
}

export function textXml(
  corpId: string,
  from: string,
  content: string,
  msgId: string,
  createTime = Math.floor(Date.now() / 1000),
): string {
  return `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${msgId}</MsgId><AgentID>1000002</AgentID></xml>`;
}

export function kfEventXml(
  corpId: string,
  openKfId: string,
  token: string,
  createTime = Math.floor(Date.now() / 1000),
): string {
  return `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[${token}]]></Token><OpenKfId><![CDATA[${openKfId}]]></OpenKfId></xml>`;
}
