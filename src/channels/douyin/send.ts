/**
 * Outbound Douyin: reply to a private message through the IM send API.
 *
 * The body's field names come from third-party SDKs (none from a page we could re-read), so the
 * whole mapping lives in `buildReplyBody` and a test pins it: when the live doc says otherwise,
 * one function and one test change. What is verified and what is not: docs/channels/douyin.md.
 *
 * Errors: HTTP 429/5xx, network failures, "system busy" and rate-limit codes are retryable; a
 * rejected token is dropped from the cache and retried; anything else (no permission, reply
 * window closed, bad parameters) is not.
 *
 * @see https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/openapi/interaction-management/private-message/send-msg
 * @see https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/openapi/status-code (状态码)
 */

import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ChannelSendError } from '../../errors.ts';
import type { OutboundMessage } from '../../messages.ts';
import { withAttachmentLinks } from '../shared/attachment-links.ts';
import { httpJson, retryAfterSec } from '../shared/http.ts';
import { redisKey } from '../shared/keys.ts';
import type { SendContext, SendResult } from '../types.ts';
import { type DouyinTokens, TOKEN_ERRORS } from './access-token.ts';
import type { DouyinConfig } from './config.ts';
import type { DouyinReplyTo } from './parse.ts';

/** "System busy", "network error", "request rate too high" (new and legacy tables): try again later. */
const TRANSIENT_ERRORS = new Set([28001005, 28001006, 28003018, 2100004]);
const PROGRESS_TTL_SEC = 2 * 86_400;

export interface DouyinSendDeps {
  config: DouyinConfig;
  tokens: DouyinTokens;
  redis: Redis;
  keyPrefix: string;
  logger: Logger;
}

/** The reply API body for one text part. The only place that knows its shape. */
export function buildReplyBody(replyTo: DouyinReplyTo, text: string, scene: string): Record<string, unknown> {
  return {
    msg_id: replyTo.msgId,
    conversation_id: replyTo.conversationId,
    to_user_id: replyTo.toUserId,
    scene,
    content: { msg_type: 1, text: { text } },
  };
}

export async function sendDouyin(
  deps: DouyinSendDeps,
  msg: OutboundMessage,
  ctx: SendContext,
): Promise<SendResult> {
  const replyTo = replyToOf(msg.replyTo);
  const openId = deps.config.openId ?? replyTo.openId;
  // Images need an upload (tool.image.upload) first, not implemented: URL attachments go as links.
  const links = withAttachmentLinks(msg.text?.trim() ?? '', msg.attachments, 'plain');
  if (links.skipped > 0)
    ctx.logger.warn({ count: links.skipped }, 'douyin: attachments without a URL are not sent');
  const parts = chunk(links.text, deps.config.maxTextLength);
  if (parts.length === 0)
    throw new ChannelSendError('douyin: nothing to send (empty text)', { retryable: false });
  const ids: string[] = [];
  for (const [i, text] of parts.entries()) {
    const doneKey = redisKey(deps.keyPrefix, 'douyin', deps.config.clientKey, 'sent', msg.idempotencyKey, i);
    const already = await deps.redis.get(doneKey);
    if (already !== null) {
      ids.push(already);
      continue;
    }
    const id = await postReply(deps, openId, buildReplyBody(replyTo, text, deps.config.scene), ctx.signal);
    ids.push(id);
    await deps.redis.set(doneKey, id, 'EX', PROGRESS_TTL_SEC).catch((err: unknown) => {
      ctx.logger.warn({ err, part: i }, 'douyin: could not record sent part');
    });
  }
  return { platformMessageId: ids.filter(Boolean).join(',') || undefined };
}

async function postReply(
  deps: DouyinSendDeps,
  openId: string,
  body: Record<string, unknown>,
  signal: AbortSignal,
): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const token = await deps.tokens.get();
    /** @see https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/openapi/interaction-management/private-message/send-msg */
    const res = await httpJson(`${deps.config.apiBase}/im/send/msg/?open_id=${encodeURIComponent(openId)}`, {
      body,
      headers: { 'access-token': token },
      timeoutMs: deps.config.requestTimeout,
      signal,
    });
    if (res.status === 429 || res.status >= 500) {
      throw new ChannelSendError(`douyin im/send/msg: HTTP ${res.status}`, {
        retryable: true,
        retryAfterSec: retryAfterSec(res.headers),
      });
    }
    const json = (res.json ?? {}) as {
      data?: { error_code?: number; description?: string; msg_id?: string };
      extra?: { error_code?: number; description?: string; sub_description?: string };
      msg_id?: string;
    };
    const code = json.data?.error_code || json.extra?.error_code || 0;
    if (res.status === 200 && code === 0) return String(json.msg_id ?? json.data?.msg_id ?? '');
    const why =
      `douyin im/send/msg: HTTP ${res.status}, error ${code} ${json.data?.description || json.extra?.description || ''}`.trim();
    if (TOKEN_ERRORS.has(code)) {
      await deps.tokens.invalidate(token);
      // One fresh token right away; a second rejection goes back to the queue.
      if (attempt === 0) continue;
      throw new ChannelSendError(why, { retryable: true });
    }
    throw new ChannelSendError(why, { retryable: TRANSIENT_ERRORS.has(code) });
  }
}

function replyToOf(r: Record<string, unknown>): DouyinReplyTo {
  if (typeof r.openId !== 'string' || typeof r.toUserId !== 'string' || !r.openId || !r.toUserId) {
    throw new ChannelSendError('douyin: replyTo needs openId and toUserId', { retryable: false });
  }
  return r as DouyinReplyTo;
}

/** Split by code points so a part never ends inside an emoji. */
function chunk(text: string, max: number): string[] {
  const chars = [...text];
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += max) out.push(chars.slice(i, i + max).join(''));
  return out;
}
