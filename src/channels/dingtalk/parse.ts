/**
 * DingTalk robot message (Stream topic `/v1.0/im/bot/messages/get`, or the HTTP-mode body; same
 * fields) → inbound draft.
 *
 * Dedupe on `msgId` (Stream may redeliver after a reconnect). Group messages reach the robot only
 * when it is @-mentioned; DingTalk removes the robot's own mention from `text.content` but leaves a
 * leading space, hence the trim. Other people mentioned stay in the text and in `raw.atUsers`.
 *
 * @see https://open.dingtalk.com/document/orgapp/receive-message (机器人接收消息)
 */
import { PayloadError } from '../../errors.ts';
import type { Attachment, InboundDraft, MessageKind } from '../../messages.ts';

/** The fields we read; everything else stays in `raw`. */
export interface RobotMessage {
  msgId?: string;
  msgtype?: string;
  conversationId?: string;
  /** "1" single chat, "2" group. */
  conversationType?: string;
  conversationTitle?: string;
  senderId?: string;
  senderStaffId?: string;
  senderNick?: string;
  senderCorpId?: string;
  chatbotUserId?: string;
  robotCode?: string;
  isInAtList?: boolean;
  atUsers?: { dingtalkId?: string; staffId?: string }[];
  sessionWebhook?: string;
  sessionWebhookExpiredTime?: number;
  createAt?: number;
  text?: { content?: string };
  content?: {
    downloadCode?: string;
    pictureDownloadCode?: string;
    recognition?: string;
    fileName?: string;
    richText?: { text?: string; downloadCode?: string; type?: string }[];
  };
  [k: string]: unknown;
}

/** Reply target read back by send.ts. */
export interface DingTalkReplyTo {
  conversationType: 'single' | 'group';
  /** openConversationId for OpenAPI group sends. */
  conversationId: string;
  senderStaffId?: string;
  senderId?: string;
  robotCode?: string;
  sessionWebhook?: string;
  sessionWebhookExpiredTime?: number;
  [k: string]: unknown;
}

export type RobotParse = { draft: InboundDraft } | { ignored: string };

export function parseRobotMessage(body: unknown, channelId: string, receivedAt: Date): RobotParse {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new PayloadError('dingtalk: robot message is not a JSON object', { field: 'body' });
  }
  const m = body as RobotMessage;
  const msgId = req(m.msgId, 'msgId');
  const conversationId = req(m.conversationId, 'conversationId');
  const senderId = m.senderStaffId || m.senderId;
  if (!senderId) throw new PayloadError('dingtalk: robot message has no sender', { field: 'senderStaffId' });

  const content = normalize(m);
  if (!content) return { ignored: `unsupported:${m.msgtype ?? 'none'}` };

  const replyTo: DingTalkReplyTo = {
    conversationType: m.conversationType === '2' ? 'group' : 'single',
    conversationId,
  };
  if (m.senderStaffId) replyTo.senderStaffId = m.senderStaffId;
  if (m.senderId) replyTo.senderId = m.senderId;
  if (m.robotCode) replyTo.robotCode = m.robotCode;
  if (m.sessionWebhook && typeof m.sessionWebhookExpiredTime === 'number') {
    replyTo.sessionWebhook = m.sessionWebhook;
    replyTo.sessionWebhookExpiredTime = m.sessionWebhookExpiredTime;
  }
  const draft: InboundDraft = {
    channel: 'dingtalk',
    channelId,
    platformMessageId: msgId,
    platformChatId: conversationId,
    sender: m.senderNick ? { id: senderId, name: m.senderNick } : { id: senderId },
    kind: content.kind,
    replyTo,
    receivedAt,
    raw: m,
  };
  if (content.text !== undefined) draft.text = content.text;
  if (content.attachments.length > 0) draft.attachments = content.attachments;
  return { draft };
}

function req(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0)
    throw new PayloadError(`dingtalk: robot message has no ${field}`, { field });
  return v;
}

function normalize(
  m: RobotMessage,
): { kind: MessageKind; text?: string; attachments: Attachment[] } | undefined {
  const code = m.content?.downloadCode;
  // Download codes are exchanged for a URL via robot/messageFiles/download when a step needs the file.
  const media = (mime?: string): Attachment[] =>
    code ? [mime ? { mediaId: code, mime } : { mediaId: code }] : [];
  switch (m.msgtype) {
    case 'text':
      return { kind: 'text', text: (m.text?.content ?? '').trim(), attachments: [] };
    case 'picture':
      return { kind: 'image', attachments: media() };
    case 'audio':
      return { kind: 'voice', text: m.content?.recognition?.trim() || undefined, attachments: media() };
    case 'video':
      return { kind: 'video', attachments: media() };
    case 'file':
      return { kind: 'file', attachments: code ? [{ mediaId: code, name: m.content?.fileName }] : [] };
    case 'richText': {
      const items = m.content?.richText ?? [];
      const text = items
        .map((i) => i.text ?? '')
        .join('')
        .trim();
      const pictures = items.filter((i) => i.downloadCode).map((i) => ({ mediaId: i.downloadCode! }));
      return { kind: 'text', text, attachments: pictures };
    }
    default:
      return undefined;
  }
}
