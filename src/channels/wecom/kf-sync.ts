/**
 * WeChat Customer Service (微信客服) pull: a `kf_msg_or_event` callback says "something is new for
 * open_kfid X" and hands a 10-minute token; the content is pulled with kf/sync_msg, page by page.
 *
 * Loss and duplicates are controlled by the order of operations: a page's drafts are handed to
 * `ingest` (dedupe + enqueue) *before* the cursor moves past them. A crash between the two re-pulls
 * that page on the next run; the hub's dedupe (keyed by msgid) drops the repeats. The cursor lives in
 * Redis without a TTL (see `cursorKey`), one per open_kfid, shared by all processes.
 *
 * @see https://developer.work.weixin.qq.com/document/path/94670 (微信客服 · 读取消息)
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Attachment, InboundDraft, MessageKind } from '../../messages.ts';
import { redisKey } from '../shared/keys.ts';
import { type WeComApi, WeComApiError, type WeComResult } from './api.ts';

/** One entry of sync_msg's `msg_list`. Only what we read is typed; the rest stays in `raw`. */
export interface KfMessage {
  msgid: string;
  open_kfid: string;
  external_userid?: string;
  send_time?: number;
  /** 3 customer, 4 system event, 5 servicer (a human agent in the WeCom client). */
  origin: number;
  msgtype: string;
  text?: { content?: string };
  image?: { media_id?: string };
  voice?: { media_id?: string };
  video?: { media_id?: string };
  file?: { media_id?: string };
  location?: { latitude?: number; longitude?: number; name?: string; address?: string };
  link?: { title?: string; desc?: string; url?: string };
  event?: {
    event_type?: string;
    open_kfid?: string;
    external_userid?: string;
    welcome_code?: string;
    scene?: string;
  };
  [k: string]: unknown;
}

interface SyncMsgResult extends WeComResult {
  next_cursor?: string;
  has_more?: number;
  msg_list?: KfMessage[];
}

export interface KfSyncDeps {
  api: WeComApi;
  redis: Redis;
  keyPrefix: string;
  corpId: string;
  channelId: string;
  /** Secret whose token may call kf APIs. */
  secret: string;
  pageSize: number;
  logger: Logger;
  signal?: AbortSignal;
}

export interface KfSyncRequest {
  openKfId: string;
  /** The callback's Token; without it sync_msg is heavily rate-limited. */
  token?: string;
}

export interface KfSyncResult {
  /** Every draft handed to `ingest`, in platform order. */
  drafts: InboundDraft[];
  pages: number;
  ignored: string[];
}

/** Guard against a platform (or fake) that keeps saying has_more with the same cursor. */
const MAX_PAGES = 1000;

/**
 * Where the cursor of one customer-service account lives. No TTL on purpose: losing it restarts
 * the pull from the oldest message WeCom still keeps (days of history), which the dedupe absorbs
 * but which costs a burst of calls; it is a few bytes per account.
 */
export function cursorKey(keyPrefix: string, corpId: string, openKfId: string): string {
  return redisKey(keyPrefix, 'wecom', 'kf', 'cursor', corpId, openKfId);
}

/**
 * Pull everything new for one open_kfid. `ingest` must durably accept a page (enqueue with
 * dedupe) before resolving; only then does the cursor advance. Callers serialize runs per open_kfid
 * (see `KfSyncTrigger`); a concurrent run would only re-pull pages the dedupe then drops.
 */
export async function syncKfMessages(
  deps: KfSyncDeps,
  req: KfSyncRequest,
  ingest: (drafts: InboundDraft[]) => Promise<unknown>,
): Promise<KfSyncResult> {
  const key = cursorKey(deps.keyPrefix, deps.corpId, req.openKfId);
  let cursor = (await deps.redis.get(key)) ?? '';
  let token = req.token || undefined;
  const seen = new Set<string>();
  const result: KfSyncResult = { drafts: [], pages: 0, ignored: [] };
  while (result.pages < MAX_PAGES) {
    let page: SyncMsgResult;
    try {
      page = await pullPage(deps, req.openKfId, cursor, token);
    } catch (err) {
      // The callback token lives 10 minutes; a pull resumed later (after a crash, a backlog) gets
      // it refused. Without a token the call is only more strictly rate-limited, so go on without.
      if (!(token && err instanceof WeComApiError && !err.retryable)) throw err;
      deps.logger.warn(
        { openKfId: req.openKfId, errcode: err.errcode },
        'wecom kf: pull token refused; continuing without it',
      );
      token = undefined;
      continue;
    }
    result.pages++;
    const drafts: InboundDraft[] = [];
    for (const m of page.msg_list ?? []) {
      if (typeof m.msgid !== 'string' || seen.has(m.msgid)) continue;
      seen.add(m.msgid);
      const d = kfMessageToDraft(m, deps.channelId);
      if ('ignored' in d) result.ignored.push(d.ignored);
      else drafts.push(d);
    }
    if (drafts.length > 0) await ingest(drafts);
    result.drafts.push(...drafts);
    const next = page.next_cursor ?? '';
    if (next && next !== cursor) {
      await deps.redis.set(key, next);
    }
    if (page.has_more !== 1) break;
    if (!next || next === cursor) {
      deps.logger.warn(
        { openKfId: req.openKfId },
        'wecom kf: has_more without a new cursor; stopping this run',
      );
      break;
    }
    cursor = next;
  }
  return result;
}

/** @see https://developer.work.weixin.qq.com/document/path/94670 */
function pullPage(
  deps: KfSyncDeps,
  openKfId: string,
  cursor: string,
  token: string | undefined,
): Promise<SyncMsgResult> {
  return deps.api.post<SyncMsgResult>(
    '/cgi-bin/kf/sync_msg',
    { cursor, token, limit: deps.pageSize, voice_format: 0, open_kfid: openKfId },
    deps.secret,
    deps.signal,
  );
}

/** One sync_msg entry → a draft, or the reason it is not customer input. */
export function kfMessageToDraft(
  m: KfMessage,
  channelId: string,
  receivedAt = new Date(),
): InboundDraft | { ignored: string } {
  if (m.origin === 5) return { ignored: 'kf:servicer-message' };
  const event = m.msgtype === 'event' ? m.event : undefined;
  const externalUserId = m.external_userid ?? event?.external_userid;
  const openKfId = m.open_kfid || event?.open_kfid || '';
  if (!externalUserId || !openKfId) return { ignored: `kf:${m.msgtype}:no-customer` };

  let kind: MessageKind;
  let text: string | undefined;
  let attachments: Attachment[] = [];
  let eventName: string | undefined;
  const media = (o: { media_id?: string } | undefined, mime?: string): Attachment[] =>
    o?.media_id ? [mime ? { mediaId: o.media_id, mime } : { mediaId: o.media_id }] : [];
  switch (m.msgtype) {
    case 'text':
      kind = 'text';
      text = m.text?.content ?? '';
      break;
    case 'image':
      kind = 'image';
      attachments = media(m.image);
      break;
    case 'voice':
      kind = 'voice';
      attachments = media(m.voice, 'audio/amr');
      break;
    case 'video':
      kind = 'video';
      attachments = media(m.video);
      break;
    case 'file':
      kind = 'file';
      attachments = media(m.file);
      break;
    case 'location':
      kind = 'location';
      text = [m.location?.name, m.location?.address].filter(Boolean).join(' ') || undefined;
      if (m.location?.latitude !== undefined && m.location.longitude !== undefined) {
        attachments = [{ url: `geo:${m.location.latitude},${m.location.longitude}` }];
      }
      break;
    case 'link':
      kind = 'text';
      text = [m.link?.title, m.link?.desc, m.link?.url].filter(Boolean).join('\n');
      break;
    case 'event':
      // Only a customer opening the chat is conversation input (it allows a welcome message);
      // the other kf events are bookkeeping (send failures, servicer status, recalls).
      if (event?.event_type !== 'enter_session')
        return { ignored: `kf-event:${event?.event_type ?? 'unknown'}` };
      kind = 'event';
      eventName = 'enter_session';
      break;
    default:
      return { ignored: `kf:unsupported:${m.msgtype}` };
  }
  const replyTo: Record<string, unknown> = {
    mode: 'kf',
    open_kfid: openKfId,
    external_userid: externalUserId,
  };
  if (event?.welcome_code) replyTo.welcome_code = event.welcome_code;
  const draft: InboundDraft = {
    channel: 'wecom',
    channelId,
    platformMessageId: `kf:${m.msgid}`,
    platformChatId: `kf:${openKfId}:${externalUserId}`,
    sender: { id: externalUserId },
    kind,
    replyTo,
    receivedAt,
    raw: m,
  };
  if (text !== undefined) draft.text = text;
  if (eventName) draft.event = eventName;
  if (attachments.length > 0) draft.attachments = attachments;
  return draft;
}
