/**
 * The TOP (Taobao Open Platform) signature, used three ways here: signing TOP API calls, checking
 * and signing the Qianniu bridge's requests, and (md5 only) the TMC connect handshake.
 *
 * Sort the parameters by name (ASCII), drop `sign` and empty values, concatenate `name + value`,
 * append the raw body when there is one, then:
 * - `md5`:         upper(hex(md5(secret + string + secret)))      — official vector in the tests
 * - `hmac`:        upper(hex(hmac_md5(secret, string)))
 * - `hmac-sha256`: upper(hex(hmac_sha256(secret, string)))
 *
 * @see https://open.taobao.com/doc.htm?docId=101617&docType=1 (签名算法)
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const TOP_SIGN_METHODS = ['md5', 'hmac', 'hmac-sha256'] as const;
export type TopSignMethod = (typeof TOP_SIGN_METHODS)[number];

/** The string that gets signed (without the secret wrapping of md5). */
export function topSignString(params: Record<string, string | undefined>, body?: string | Buffer): string {
  // Default sort compares UTF-16 code units: for ASCII names that is byte order, as TOP expects
  // (never localeCompare, which would put `_` and upper case elsewhere).
  const keys = Object.keys(params)
    .filter((k) => k !== 'sign' && params[k] !== undefined && params[k] !== '')
    .sort();
  const joined = keys.map((k) => `${k}${params[k]}`).join('');
  return body === undefined ? joined : joined + (Buffer.isBuffer(body) ? body.toString('utf8') : body);
}

export function topSign(
  params: Record<string, string | undefined>,
  secret: string,
  method: TopSignMethod = 'md5',
  body?: string | Buffer,
): string {
  const text = topSignString(params, body);
  switch (method) {
    case 'md5':
      return createHash('md5').update(`${secret}${text}${secret}`, 'utf8').digest('hex').toUpperCase();
    case 'hmac':
      return createHmac('md5', secret).update(text, 'utf8').digest('hex').toUpperCase();
    case 'hmac-sha256':
      return createHmac('sha256', secret).update(text, 'utf8').digest('hex').toUpperCase();
  }
}

/** Constant-time comparison of a received sign with the expected one (case-insensitive hex). */
export function topSignEquals(given: string, expected: string): boolean {
  if (!/^[0-9a-fA-F]+$/.test(given) || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(given.toUpperCase(), 'utf8'), Buffer.from(expected, 'utf8'));
}

/** TOP's timestamp format: `yyyy-MM-dd HH:mm:ss` in China time (GMT+8), whatever the host's zone. */
export function topTimestamp(date: Date): string {
  const d = new Date(date.getTime() + 8 * 3_600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/** Inverse of `topTimestamp`; undefined when the text is not in that format. */
export function parseTopTimestamp(text: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h - 8, mi, s);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
