/**
 * Douyin webhook event → handshake answer, draft, or an ignored event.
 *
 * - `verify_webhook`: answer `{"challenge": <the same value>}` as JSON (nothing is queued).
 * - `im_receive_msg`: a user wrote to the authorized account → one draft. `content` is documented
 *   as a struct but arrives as a JSON string in several samples, so both are accepted.
 * - `im_send_msg` (the account's own outgoing messages) and anything our own client key sent
 *   (`content.source === client_key`) are ignored: answering them would loop.
 * - Dedupe: `server_message_id`, else the `Msg-Id` header (Douyin retries up to 3 times).
 *
 * Image and video messages carry no URL (documented: view them in the app); they become
 * attachments without one, so a workflow can still see what kind of message arrived.
 *
 * @see https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/webhooks/summarize
 * @see https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/openapi/search-management/private-message/private-msg-webhook
 */
import { PayloadError } from '../../errors.ts';
import type { Attachment, InboundDraft, MessageKind } from '../../messages.ts';

export interface DouyinParseContext {
  channelId: string;
  clientKey: string;
  /** `Msg-Id` request header. */
  msgIdHeader?: string;
  receivedAt: Date;
}

/** What send.ts reads back from `replyTo`: the fields of the reply API body. */
export interface DouyinReplyTo {
  /** open_id of the authorized account (the reply API's `open_id` query). */
  openId: string;
  /** The user to answer (`to_user_id`). */
  toUserId: string;
  /** `conversation_short_id` of the event (`conversation_id` of the reply). */
  conversationId?: string;
  /** `server_message_id` of the user's message (`msg_id` of the reply). */
  msgId?: string;
  [k: string]: unknown;
}

export type DouyinParse = { challenge: unknown } | { draft: InboundDraft } | { ignored: string };

interface DouyinContent {
  conversation_short_id?: string;
  server_message_id?: string;
  conversation_type?: number;
  message_type?: string;
  text?: string;
  source?: string;
  create_time?: number;
  user_infos?: { open_id?: string; nick_name?: string; avatar?: string }[];
  [k: string]: unknown;
}

const KINDS: Record<string, { kind: MessageKind; mime?: string; attachment?: boolean }> = {
  text: { kind: 'text' },
  image: { kind: 'image', mime: 'image/*', attachment: true },
  user_local_image: { kind: 'image', mime: 'image/*', attachment: true },
  emoji: { kind: 'image', mime: 'image/gif', attachment: true },
  video: { kind: 'video', mime: 'video/*', attachment: true },
  user_local_video: { kind: 'video', mime: 'video/*', attachment: true },
  // 留资卡片: the user submitted contact details through a card; its fields stay in `raw`.
  retain_consult_card: { kind: 'file', mime: 'application/vnd.douyin.card+json', attachment: true },
};

export function parseDouyinEvent(body: unknown, ctx: DouyinParseContext): DouyinParse {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new PayloadError('douyin: event body is not a JSON object', { field: 'body' });
  }
  const env = body as Record<string, unknown>;
  const event = env.event;
  if (typeof event !== 'string' || event === '')
    throw new PayloadError('douyin: event name missing', { field: 'event' });
  const content = contentOf(env.content);

  if (event === 'verify_webhook') {
    if (content.challenge === undefined)
      throw new PayloadError('douyin: verify_webhook without challenge', { field: 'content.challenge' });
    return { challenge: content.challenge };
  }
  if (event !== 'im_receive_msg') return { ignored: `event:${event}` };

  const c = content as DouyinContent;
  if (c.source && c.source === ctx.clientKey) return { ignored: 'echo:own_client' };
  const from = str(env.from_user_id);
  const to = str(env.to_user_id);
  if (!from) throw new PayloadError('douyin: from_user_id missing', { field: 'from_user_id' });
  if (!to) throw new PayloadError('douyin: to_user_id missing', { field: 'to_user_id' });
  if (from === to) return { ignored: 'echo:self' };

  const type = str(c.message_type) ?? 'unknown';
  const spec = KINDS[type];
  if (!spec) return { ignored: `unsupported:${type}` };
  const serverId = str(c.server_message_id);
  const platformMessageId = serverId ?? (ctx.msgIdHeader ? `msgid-${ctx.msgIdHeader}` : undefined);
  if (!platformMessageId) {
    throw new PayloadError('douyin: neither content.server_message_id nor a Msg-Id header', {
      field: 'content.server_message_id',
    });
  }
  const conversation = str(c.conversation_short_id);
  const text = typeof c.text === 'string' && c.text.trim() !== '' ? c.text : undefined;
  const attachments: Attachment[] = spec.attachment ? [attachmentOf(c, type, spec.mime)] : [];
  if (spec.kind === 'text' && !text) return { ignored: 'empty:text' };

  const replyTo: DouyinReplyTo = {
    openId: to,
    toUserId: from,
    ...(conversation ? { conversationId: conversation } : {}),
    ...(serverId ? { msgId: serverId } : {}),
  };
  return {
    draft: {
      channel: 'douyin',
      channelId: ctx.channelId,
      platformMessageId,
      platformChatId: conversation ?? `${to}:${from}`,
      sender: { id: from, name: c.user_infos?.find((u) => u.open_id === from)?.nick_name },
      kind: spec.kind,
      ...(text ? { text } : {}),
      attachments,
      replyTo,
      receivedAt: ctx.receivedAt,
      raw: body,
    },
  };
}

/** `content` as an object, whether it came as one or as a JSON string. */
function contentOf(raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      throw new PayloadError('douyin: content is a string but not JSON', { field: 'content', cause: err });
    }
    return contentOf(parsed);
  }
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new PayloadError('douyin: content is not an object', { field: 'content' });
  return raw as Record<string, unknown>;
}

function attachmentOf(c: DouyinContent, type: string, mime?: string): Attachment {
  // No URL field is documented; take one if a future payload carries it.
  const url = [c.resource_url, c.url].find(
    (u): u is string => typeof u === 'string' && /^https?:\/\//.test(u),
  );
  return { name: type, ...(mime ? { mime } : {}), ...(url ? { url } : {}) };
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}
