/**
 * Outbound WeCom: app messages (message/send) and WeChat Customer Service (kf/send_msg).
 *
 * A reply longer than 2048 bytes becomes several messages, cut on character boundaries. Each part
 * is remembered in Redis once sent, so a retried job (a later part failed, the platform throttled)
 * resumes where it stopped instead of repeating the first parts. Every part first reserves a slot
 * in the shared rate limiter: WeCom drops what exceeds its limits, we delay it instead.
 *
 * URL attachments are turned into media ids (media.ts) before the first part goes out, so a file
 * that cannot be fetched fails the whole reply instead of sending its text alone.
 *
 * @see https://developer.work.weixin.qq.com/document/path/90236 (发送应用消息)
 * @see https://developer.work.weixin.qq.com/document/path/94677 (微信客服 · 发送消息)
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ChannelSendError } from '../../errors.ts';
import type { OutboundMessage } from '../../messages.ts';
import { redisKey } from '../shared/keys.ts';
import { type RateWindow, reserveRate } from '../shared/rate-limit.ts';
import { splitUtf8 } from '../shared/split-text.ts';
import type { SendContext, SendResult } from '../types.ts';
import type { WeComApi, WeComResult } from './api.ts';
import { kfSecretOf, type WeComConfig } from './config.ts';
import type { ResolvedMedia, WeComMedia } from './media.ts';

/** Documented maximum of text/markdown `content`, in bytes. */
export const WECOM_TEXT_MAX_BYTES = 2048;
const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Sent-part markers outlive every retry schedule of the outbound queue. */
const PROGRESS_TTL_SEC = 2 * 86_400;

export interface WeComSendDeps {
  api: WeComApi;
  config: WeComConfig;
  redis: Redis;
  keyPrefix: string;
  logger: Logger;
  media: WeComMedia;
  now?: () => number;
}

type Target =
  | { mode: 'app'; touser: string; agentid: number }
  | { mode: 'kf'; openKfId: string; externalUserId: string };

type Part =
  | { msgtype: 'text'; text: { content: string } }
  | { msgtype: 'markdown'; markdown: { content: string } }
  | { msgtype: 'image'; image: { media_id: string } }
  | { msgtype: 'file'; file: { media_id: string } };

export async function sendWeCom(
  deps: WeComSendDeps,
  msg: OutboundMessage,
  ctx: SendContext,
): Promise<SendResult> {
  const target = targetOf(msg.replyTo, deps.config);
  const media = await mediaOf(deps, msg, secretOf(target, deps.config), ctx.signal);
  const parts = partsOf(msg, target, media);
  const sentIds: string[] = [];
  for (const [i, part] of parts.entries()) {
    const doneKey = redisKey(deps.keyPrefix, 'wecom', 'sent', msg.idempotencyKey, i);
    const already = await deps.redis.get(doneKey);
    if (already !== null) {
      sentIds.push(already);
      continue;
    }
    await reserve(deps, target, ctx);
    const res = await callSend(deps, target, part, ctx.signal);
    const platformId = typeof res.msgid === 'string' ? res.msgid : '';
    sentIds.push(platformId);
    await deps.redis.set(doneKey, platformId, 'EX', PROGRESS_TTL_SEC).catch((err: unknown) => {
      // Delivered but not recorded: a retry of this job would repeat this part. Worth a warning.
      ctx.logger.warn({ err, part: i }, 'wecom: could not record sent part');
    });
  }
  return { platformMessageId: sentIds.filter(Boolean).join(',') || undefined };
}

function targetOf(replyTo: Record<string, unknown>, config: WeComConfig): Target {
  if (replyTo.mode === 'kf') {
    const openKfId = replyTo.open_kfid;
    const externalUserId = replyTo.external_userid;
    if (typeof openKfId !== 'string' || typeof externalUserId !== 'string' || !openKfId || !externalUserId) {
      throw new ChannelSendError('wecom: kf replyTo needs open_kfid and external_userid', {
        retryable: false,
      });
    }
    return { mode: 'kf', openKfId, externalUserId };
  }
  const touser = replyTo.touser;
  if (typeof touser !== 'string' || touser.length === 0) {
    throw new ChannelSendError('wecom: replyTo needs touser', { retryable: false });
  }
  const agentid = Number(replyTo.agentid ?? config.agentId);
  return { mode: 'app', touser, agentid: Number.isInteger(agentid) ? agentid : config.agentId };
}

/**
 * Each attachment as the media it is sent as: a given `mediaId` as-is, a URL uploaded (or found in
 * the cache). Uploaded with the secret that sends, so the media id belongs to the same app.
 */
async function mediaOf(
  deps: WeComSendDeps,
  msg: OutboundMessage,
  secret: string,
  signal: AbortSignal,
): Promise<ResolvedMedia[]> {
  const out: ResolvedMedia[] = [];
  // One at a time: attachments are few, and parallel 20 MB downloads would only compete.
  for (const a of msg.attachments) {
    if (a.mediaId) {
      const isImage = msg.kind === 'image' || (a.mime?.startsWith('image/') ?? false);
      out.push({ type: isImage ? 'image' : 'file', mediaId: a.mediaId });
    } else if (a.url) {
      out.push(await deps.media.resolve({ url: a.url, mime: a.mime, name: a.name }, secret, signal));
    } else {
      throw new ChannelSendError('wecom: an attachment needs a mediaId or a url', { retryable: false });
    }
  }
  return out;
}

function partsOf(msg: OutboundMessage, target: Target, media: ResolvedMedia[]): Part[] {
  const parts: Part[] = [];
  const text = msg.text ?? '';
  // 微信客服 has no markdown message type: customers get the plain text.
  const markdown = msg.kind === 'markdown' && target.mode === 'app';
  for (const chunk of splitUtf8(text, WECOM_TEXT_MAX_BYTES)) {
    parts.push(
      markdown
        ? { msgtype: 'markdown', markdown: { content: chunk } }
        : { msgtype: 'text', text: { content: chunk } },
    );
  }
  for (const m of media) {
    parts.push(
      m.type === 'image'
        ? { msgtype: 'image', image: { media_id: m.mediaId } }
        : { msgtype: 'file', file: { media_id: m.mediaId } },
    );
  }
  if (parts.length === 0)
    throw new ChannelSendError('wecom: nothing to send (empty text, no attachments)', { retryable: false });
  return parts;
}

function secretOf(target: Target, config: WeComConfig): string {
  return target.mode === 'kf' ? kfSecretOf(config) : config.secret;
}

/** Wait briefly for a rate-limit slot, or hand the message back to the queue with a delay. */
async function reserve(deps: WeComSendDeps, target: Target, ctx: SendContext): Promise<void> {
  const rl = deps.config.rateLimit;
  if (!rl.enabled) return;
  const corp = deps.config.corpId;
  const k = (...p: (string | number)[]) => redisKey(deps.keyPrefix, 'wecom', 'rl', corp, ...p);
  const api = target.mode === 'app' ? 'message-send' : 'kf-send-msg';
  const windows: RateWindow[] = [
    { key: k(api, 'm'), limit: rl.corpPerMinute, windowMs: MINUTE },
    { key: k(api, 'h'), limit: rl.corpPerHour, windowMs: HOUR },
  ];
  if (target.mode === 'app') {
    windows.push(
      { key: k('member', target.agentid, target.touser, 'm'), limit: rl.memberPerMinute, windowMs: MINUTE },
      { key: k('member', target.agentid, target.touser, 'h'), limit: rl.memberPerHour, windowMs: HOUR },
    );
  }
  const now = deps.now ?? Date.now;
  for (;;) {
    const r = await reserveRate(deps.redis, windows, now());
    if (r.ok) return;
    if (r.retryAfterMs > rl.maxInlineWait) {
      throw new ChannelSendError(`wecom: rate limit ${r.key} full, retry in ${r.retryAfterMs} ms`, {
        retryable: true,
        retryAfterSec: Math.ceil(r.retryAfterMs / 1000),
      });
    }
    await sleep(r.retryAfterMs, ctx.signal);
  }
}

async function callSend(
  deps: WeComSendDeps,
  target: Target,
  part: Part,
  signal: AbortSignal,
): Promise<WeComResult> {
  const secret = secretOf(target, deps.config);
  if (target.mode === 'kf') {
    /** @see https://developer.work.weixin.qq.com/document/path/94677 */
    return deps.api.post(
      '/cgi-bin/kf/send_msg',
      { touser: target.externalUserId, open_kfid: target.openKfId, ...part },
      secret,
      signal,
    );
  }
  /** @see https://developer.work.weixin.qq.com/document/path/90236 */
  const res = await deps.api.post<WeComResult & { invaliduser?: string }>(
    '/cgi-bin/message/send',
    { touser: target.touser, agentid: target.agentid, safe: 0, ...part },
    secret,
    signal,
  );
  // errcode 0 with the user listed as invalid means nobody received it (left the corp, outside
  // the app's visible range): retrying cannot help.
  const invalid = (res.invaliduser ?? '').split('|').filter(Boolean);
  if (invalid.includes(target.touser)) {
    throw new ChannelSendError(`wecom: member ${target.touser} is not reachable by agent ${target.agentid}`, {
      retryable: false,
    });
  }
  return res;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
