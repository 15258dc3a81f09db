/**
 * Outbound Taobao: there is no public API to write into a buyer's Wangwang chat, so replies go to
 * the Qianniu bridge's callback URL, TOP-signed like the bridge's own requests (query
 * `app_key, timestamp, sign_method, sign`; the raw JSON body is part of the signature):
 *
 *   { "type": "reply", "seller_nick", "buyer_nick"?, "buyer_open_uid"?, "msg_type": "text",
 *     "text", "in_reply_to"?, "idempotency_key", "sent_at" }
 *
 * The bridge answers 2xx (optionally `{ "msg_id": … }`); 429/5xx/network are retryable, other
 * statuses are not. It must treat `idempotency_key` as the dedupe key of a reply.
 */

import { ChannelSendError } from '../../errors.ts';
import type { OutboundMessage } from '../../messages.ts';
import { httpUrl } from '../shared/attachment-links.ts';
import { redactUrl, retryAfterSec } from '../shared/http.ts';
import type { SendContext, SendResult } from '../types.ts';
import type { TaobaoBridgeConfig } from './config.ts';
import type { TaobaoReplyTo } from './parse.ts';
import { signedBridgeQuery } from './verify.ts';

export interface TaobaoSendDeps {
  bridge: TaobaoBridgeConfig | undefined;
  appKey: string;
  requestTimeoutMs: number;
  now?: () => Date;
}

export function buildBridgeReply(
  msg: OutboundMessage,
  replyTo: TaobaoReplyTo,
  now: Date,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries({
      type: 'reply',
      seller_nick: replyTo.sellerNick,
      buyer_nick: replyTo.buyerNick,
      buyer_open_uid: replyTo.buyerOpenUid,
      msg_type: 'text',
      text: msg.text,
      attachments: bridgeAttachments(msg),
      in_reply_to: replyTo.msgId,
      idempotency_key: msg.idempotencyKey,
      sent_at: now.getTime(),
    }).filter(([, v]) => v !== undefined),
  );
}

/** URL attachments for the bridge to send as images/files (the bridge has the seller's session). */
function bridgeAttachments(
  msg: OutboundMessage,
): { url: string; mime?: string; name?: string }[] | undefined {
  const files = msg.attachments.flatMap((a) => {
    const url = httpUrl(a.url);
    return url ? [{ url: url.href, mime: a.mime, name: a.name }] : [];
  });
  return files.length > 0 ? files : undefined;
}

export async function sendTaobao(
  deps: TaobaoSendDeps,
  msg: OutboundMessage,
  ctx: SendContext,
): Promise<SendResult> {
  const bridge = deps.bridge;
  if (!bridge)
    throw new ChannelSendError(
      'taobao: no bridge configured; Taobao has no public API to reply in buyer chat',
      { retryable: false },
    );
  const replyTo = msg.replyTo as TaobaoReplyTo;
  if (!replyTo.buyerNick && !replyTo.buyerOpenUid) {
    throw new ChannelSendError('taobao: the message names no buyer to answer', { retryable: false });
  }
  const attachments = bridgeAttachments(msg);
  if (!msg.text?.trim() && !attachments)
    throw new ChannelSendError('taobao: nothing to send (empty text)', { retryable: false });
  if (msg.attachments.length > (attachments?.length ?? 0))
    ctx.logger.warn(
      { count: msg.attachments.length - (attachments?.length ?? 0) },
      'taobao: attachments without a URL are not sent',
    );

  const now = (deps.now ?? (() => new Date()))();
  const body = JSON.stringify(buildBridgeReply(msg, replyTo, now));
  const query = signedBridgeQuery(body, {
    appKey: bridge.appKey ?? deps.appKey,
    secret: bridge.secret,
    signMethod: bridge.signMethod,
    now,
  });
  const url = `${bridge.callbackUrl}${bridge.callbackUrl.includes('?') ? '&' : '?'}${query}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'idempotency-key': msg.idempotencyKey },
      body,
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(deps.requestTimeoutMs)]),
    });
  } catch (err) {
    throw new ChannelSendError(`taobao bridge ${redactUrl(bridge.callbackUrl)} unreachable`, {
      retryable: true,
      cause: err,
    });
  }
  const answer = await res.text().catch(() => '');
  if (res.ok) {
    let id: unknown;
    try {
      id = (JSON.parse(answer) as { msg_id?: unknown }).msg_id;
    } catch {}
    return { platformMessageId: typeof id === 'string' || typeof id === 'number' ? String(id) : undefined };
  }
  throw new ChannelSendError(`taobao bridge answered ${res.status}: ${answer.slice(0, 200)}`, {
    retryable: res.status === 429 || res.status >= 500,
    retryAfterSec: retryAfterSec(res.headers),
  });
}
