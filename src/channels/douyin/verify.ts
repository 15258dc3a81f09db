/**
 * Webhook signature: `X-Douyin-Signature = hex(sha1(client_secret + raw body))`, computed over the
 * bytes exactly as received (re-serialized JSON would not match). Every event is signed, the
 * `verify_webhook` handshake included.
 *
 * Douyin signs no timestamp, so a captured request could be replayed; the hub's dedupe on the
 * message id (Msg-Id header, server_message_id) keeps a replay from producing a second reply.
 *
 * @see https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/webhooks/summarize (签名校验)
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { VerificationError } from '../../errors.ts';

export const SIGNATURE_HEADER = 'x-douyin-signature';

export function douyinSignature(clientSecret: string, rawBody: Buffer): string {
  return createHash('sha1').update(Buffer.from(clientSecret, 'utf8')).update(rawBody).digest('hex');
}

export function verifyDouyinSignature(
  headers: Record<string, string | undefined>,
  rawBody: Buffer,
  clientSecret: string,
): void {
  const given = headers[SIGNATURE_HEADER]?.trim();
  if (!given) throw new VerificationError('douyin: X-Douyin-Signature header is missing');
  if (!/^[0-9a-fA-F]{40}$/.test(given))
    throw new VerificationError('douyin: X-Douyin-Signature is not a sha1 hex digest');
  const a = Buffer.from(given, 'hex');
  const b = Buffer.from(douyinSignature(clientSecret, rawBody), 'hex');
  if (!timingSafeEqual(a, b)) throw new VerificationError('douyin: signature mismatch');
}
