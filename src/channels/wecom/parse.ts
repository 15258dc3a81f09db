/**
 * Decrypted WeCom callback XML → inbound drafts.
 *
 * One callback carries one message or event. `MsgId` stays a string (64-bit). Events have no
 * MsgId; WeCom's documented dedupe key for them is FromUserName + CreateTime, to which the event
 * name is added so two different events in the same second are not merged (a retry repeats all three).
 * `kf_msg_or_event` carries no content: it is returned separately so the adapter can pull the
 * WeChat Customer Service messages (see kf-sync.ts).
 *
 * @see https://developer.work.weixin.qq.com/document/path/90239 (接收普通消息)
 * @see https://developer.work.weixin.qq.com/document/path/90240 (接收事件)
 * @see https://developer.work.weixin.qq.com/document/path/94670 (微信客服 · 接收消息和事件)
 */
import { PayloadError } from '../../errors.ts';
import type { Attachment, InboundDraft, MessageKind } from '../../messages.ts';
import { parseXmlRoot, str } from './xml.ts';

export interface WeComParseContext {
  channelId: string;
  agentId: number;
  receivedAt: Date;
}

/** A `kf_msg_or_event` callback: which customer-service account has news, and the pull token. */
export interface KfNotice {
  openKfId: string;
  token: string;
}

export interface WeComParsed {
  drafts: InboundDraft[];
  ignored: string[];
  kf: KfNotice[];
}

/** Reply target of a self-built app message, read back by send.ts. */
export interface WeComAppReplyTo {
  mode: 'app';
  touser: string;
  agentid: number;
  [k: string]: unknown;
}

export function parseWeComMessage(plaintext: string, ctx: WeComParseContext): WeComParsed {
  const f = parseXmlRoot(plaintext, 'message');
  const msgType = str(f, 'MsgType');
  if (!msgType) throw new PayloadError('wecom: message has no MsgType', { field: 'MsgType' });
  const from = str(f, 'FromUserName') ?? '';

  if (msgType === 'event') {
    const event = str(f, 'Event') ?? '';
    if (event === 'kf_msg_or_event') {
      const openKfId = str(f, 'OpenKfId');
      const token = str(f, 'Token');
      if (!openKfId) throw new PayloadError('wecom: kf_msg_or_event without OpenKfId', { field: 'OpenKfId' });
      return { drafts: [], ignored: [], kf: [{ openKfId, token: token ?? '' }] };
    }
    // Contact/department changes come from `sys`: directory sync, not a conversation.
    if (from === 'sys' || from === '')
      return { drafts: [], ignored: [`event:${event || 'unknown'}`], kf: [] };
    const createTime = str(f, 'CreateTime');
    if (!createTime) throw new PayloadError('wecom: event has no CreateTime', { field: 'CreateTime' });
    const draft = base(ctx, f, from, `ev:${from}:${createTime}:${event}`, 'event');
    draft.event = event;
    const key = str(f, 'EventKey');
    if (key) draft.text = key;
    return { drafts: [draft], ignored: [], kf: [] };
  }

  if (!from) throw new PayloadError('wecom: message has no FromUserName', { field: 'FromUserName' });
  const msgId = str(f, 'MsgId');
  if (!msgId || !/^\d+$/.test(msgId))
    throw new PayloadError('wecom: message has no numeric MsgId', { field: 'MsgId' });

  const normalized = normalizeContent(msgType, f);
  if (!normalized) return { drafts: [], ignored: [`unsupported:${msgType}`], kf: [] };
  const draft = base(ctx, f, from, msgId, normalized.kind);
  if (normalized.text !== undefined) draft.text = normalized.text;
  if (normalized.attachments.length > 0) draft.attachments = normalized.attachments;
  return { drafts: [draft], ignored: [], kf: [] };
}

function base(
  ctx: WeComParseContext,
  f: Record<string, unknown>,
  from: string,
  platformMessageId: string,
  kind: MessageKind,
): InboundDraft {
  const replyTo: WeComAppReplyTo = { mode: 'app', touser: from, agentid: ctx.agentId };
  return {
    channel: 'wecom',
    channelId: ctx.channelId,
    platformMessageId,
    // One conversation per member and app: the same person talking to two apps is two threads.
    platformChatId: `app:${ctx.agentId}:${from}`,
    sender: { id: from },
    kind,
    replyTo,
    receivedAt: ctx.receivedAt,
    raw: f,
  };
}

interface Content {
  kind: MessageKind;
  text?: string;
  attachments: Attachment[];
}

function normalizeContent(msgType: string, f: Record<string, unknown>): Content | undefined {
  const mediaId = str(f, 'MediaId');
  switch (msgType) {
    case 'text':
      return { kind: 'text', text: str(f, 'Content') ?? '', attachments: [] };
    case 'image':
      return { kind: 'image', attachments: [clean({ url: str(f, 'PicUrl'), mediaId })] };
    case 'voice': {
      // With speech recognition enabled WeCom adds the transcript; workflows can match on it.
      const text = str(f, 'Recognition');
      const format = str(f, 'Format')?.toLowerCase();
      return {
        kind: 'voice',
        text: text || undefined,
        attachments: [clean({ mediaId, mime: format ? `audio/${format}` : undefined })],
      };
    }
    case 'video':
      return { kind: 'video', attachments: [clean({ mediaId, mime: 'video/mp4' })] };
    case 'file':
      return { kind: 'file', attachments: [clean({ mediaId, name: str(f, 'FileName') ?? str(f, 'Title') })] };
    case 'location': {
      const lat = str(f, 'Location_X');
      const lng = str(f, 'Location_Y');
      // RFC 5870 geo URI: coordinates travel as an ordinary attachment URL.
      const geo = lat && lng ? [{ url: `geo:${lat},${lng}`, name: str(f, 'Label') }] : [];
      return { kind: 'location', text: str(f, 'Label'), attachments: geo.map(clean) };
    }
    case 'link': {
      const title = str(f, 'Title') ?? '';
      const url = str(f, 'Url');
      return {
        kind: 'text',
        text: [title, str(f, 'Description'), url].filter(Boolean).join('\n'),
        attachments: url ? [{ url, name: title }] : [],
      };
    }
    default:
      return undefined;
  }
}

/** Drop undefined fields so the draft stays plain JSON with no `undefined` holes. */
function clean(a: Attachment): Attachment {
  return Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined && v !== '')) as Attachment;
}
