/**
 * Bridge requests (`POST /webhooks/taobao/:id`) carry the TOP signature in the query string:
 *
 *   ?app_key=…&timestamp=yyyy-MM-dd HH:mm:ss&sign_method=hmac-sha256&sign=…
 *
 * signed over every query parameter but `sign`, sorted, name+value, followed by the raw body
 * (the TOP scheme with the body appended, as TOP does for pushes to ISVs). Pure and paranoid: the
 * app key must match, only the configured sign method is accepted, the timestamp must be within
 * the tolerance of an injectable clock, and the sign is compared in constant time.
 */
import { VerificationError } from '../../errors.ts';
import type { TaobaoBridgeConfig } from './config.ts';
import { parseTopTimestamp, topSign, topSignEquals, topTimestamp } from './top-sign.ts';

export interface BridgeVerifyParams {
  bridge: TaobaoBridgeConfig;
  appKey: string;
  /** Current time in ms. */
  now: number;
}

export function verifyBridgeRequest(
  query: Record<string, string>,
  rawBody: Buffer,
  p: BridgeVerifyParams,
): void {
  const { app_key: appKey, timestamp, sign_method: method, sign } = query;
  if (!appKey || !timestamp || !method || !sign) {
    throw new VerificationError('taobao bridge: app_key, timestamp, sign_method and sign are required');
  }
  if (appKey !== p.appKey) throw new VerificationError('taobao bridge: unknown app_key');
  if (method !== p.bridge.signMethod)
    throw new VerificationError(`taobao bridge: sign_method must be ${p.bridge.signMethod}`);
  const at = parseTopTimestamp(timestamp);
  if (!at) throw new VerificationError('taobao bridge: timestamp is not yyyy-MM-dd HH:mm:ss');
  if (Math.abs(p.now - at.getTime()) > p.bridge.timestampTolerance) {
    throw new VerificationError(
      'taobao bridge: timestamp outside the accepted window (replay or clock skew)',
    );
  }
  const expected = topSign(query, p.bridge.secret, p.bridge.signMethod, rawBody);
  if (!topSignEquals(sign, expected)) throw new VerificationError('taobao bridge: sign mismatch');
}

/** The query string of a signed request to or from the bridge. */
export function signedBridgeQuery(
  body: string,
  p: { appKey: string; secret: string; signMethod: TaobaoBridgeConfig['signMethod']; now: Date },
): URLSearchParams {
  const params: Record<string, string> = {
    app_key: p.appKey,
    timestamp: topTimestamp(p.now),
    sign_method: p.signMethod,
  };
  params.sign = topSign(params, p.secret, p.signMethod, body);
  return new URLSearchParams(params);
}
