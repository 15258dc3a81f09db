/**
 * HTTP-mode robot callbacks: `timestamp` (ms) and `sign` headers, where
 * sign = base64(HMAC-SHA256(key = appSecret, timestamp + "\n" + appSecret)).
 *
 * Pure: headers, secret and clock in; `VerificationError` out. The HMAC is compared as bytes in
 * constant time; the timestamp must be within the tolerance on either side (a captured request
 * cannot be replayed an hour later, a forged future one is refused too).
 *
 * @see https://open.dingtalk.com/document/orgapp/receive-message (接收消息 · 安全校验)
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { VerificationError } from '../../errors.ts';

export interface DingTalkSignParams {
  secret: string;
  /** Current time in ms. */
  now: number;
  toleranceMs: number;
}

export function dingtalkSign(timestamp: string, secret: string): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
}

export function verifyDingTalkSign(headers: Record<string, string | undefined>, p: DingTalkSignParams): void {
  const timestamp = headers.timestamp;
  let sign = headers.sign;
  if (!timestamp || !sign) throw new VerificationError('dingtalk: timestamp and sign headers are required');
  if (!/^\d{10,16}$/.test(timestamp)) throw new VerificationError('dingtalk: timestamp is not a time in ms');
  if (Math.abs(p.now - Number(timestamp)) > p.toleranceMs) {
    throw new VerificationError('dingtalk: timestamp outside the accepted window (replay or clock skew)');
  }
  // Some proxies forward the URL-encoded form used on custom-robot URLs.
  if (sign.includes('%')) {
    try {
      sign = decodeURIComponent(sign);
    } catch {
      throw new VerificationError('dingtalk: sign is not valid base64');
    }
  }
  // Compared as canonical base64 text, not decoded bytes: base64 decoders ignore the spare bits of
  // the last character, so several strings decode to the same HMAC; only DingTalk's exact one passes.
  const given = Buffer.from(sign, 'utf8');
  const expected = Buffer.from(dingtalkSign(timestamp, p.secret), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new VerificationError('dingtalk: sign mismatch');
  }
}
