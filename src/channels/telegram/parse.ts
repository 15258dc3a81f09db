/**
 * Telegram `Update` → inbound draft. Pure: no Bot API calls, no telegraf middleware — the webhook
 * must be answered as soon as the update is queued.
 *
 * - Dedupe key: `u<update_id>` (update ids are per bot; BullMQ dislikes purely numeric ids).
 * - Private chats always count. In groups, only what addresses the bot (see `groups.respondTo`):
 *   an @mention, a `text_mention` of the bot, a reply to one of its messages, or a command.
 * - Commands keep their text (`/start payload`) so workflows can match them; a `@botname` suffix
 *   is removed, and a command addressed to another bot is ignored.
 * - Photos, documents, voice, audio, video become attachments carrying the `file_id` (media id).
 *
 * @see https://core.telegram.org/bots/api#update
 * @see https://core.telegram.org/bots/features#privacy-mode (what bots see in groups)
 */
import type { Message, MessageEntity, Update } from 'telegraf/types';
import { PayloadError } from '../../errors.ts';
import type { Attachment, InboundDraft, MessageKind } from '../../messages.ts';

export interface TelegramBotIdentity {
  id: number;
  /** Without `@`; undefined until configured or learnt with getMe. */
  username?: string;
}

export interface TelegramParseContext {
  channelId: string;
  bot: TelegramBotIdentity;
  respondTo: 'mentioned' | 'all' | 'none';
  quoteReplies: boolean;
  receivedAt: Date;
}

/** What send.ts reads back from `replyTo`. */
export interface TelegramReplyTo {
  chatId: number;
  chatType: string;
  messageId: number;
  /** Forum topic the message was in; replies must go to the same topic. */
  threadId?: number;
  /** Quote the user's message in the first reply part (groups). */
  quote: boolean;
  [k: string]: unknown;
}

export type TelegramParse = { draft: InboundDraft } | { ignored: string };

/** Update fields that carry something other than a new message, named for the `ignored` list. */
const OTHER_UPDATES = [
  'edited_message',
  'channel_post',
  'edited_channel_post',
  'callback_query',
  'inline_query',
  'chosen_inline_result',
  'my_chat_member',
  'chat_member',
  'chat_join_request',
  'message_reaction',
  'message_reaction_count',
  'poll',
  'poll_answer',
  'shipping_query',
  'pre_checkout_query',
  'chat_boost',
  'removed_chat_boost',
] as const;

/** Check the fields we rely on; anything else may be missing and stays in `raw`. */
export function assertUpdate(body: unknown): Update {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new PayloadError('telegram: update is not a JSON object', { field: 'update' });
  }
  const u = body as Record<string, unknown>;
  if (!Number.isSafeInteger(u.update_id) || (u.update_id as number) < 0) {
    throw new PayloadError('telegram: update_id must be a non-negative integer', { field: 'update_id' });
  }
  if (u.message !== undefined) {
    const m = u.message as Record<string, unknown> | null;
    if (m === null || typeof m !== 'object')
      throw new PayloadError('telegram: message is not an object', { field: 'message' });
    if (!Number.isSafeInteger(m.message_id))
      throw new PayloadError('telegram: message.message_id missing', { field: 'message.message_id' });
    const chat = m.chat as Record<string, unknown> | null | undefined;
    if (!chat || typeof chat !== 'object' || !Number.isSafeInteger(chat.id)) {
      throw new PayloadError('telegram: message.chat.id missing', { field: 'message.chat.id' });
    }
  }
  return body as Update;
}

export function parseTelegramUpdate(update: Update, ctx: TelegramParseContext): TelegramParse {
  if (!('message' in update) || !update.message) {
    const kind = OTHER_UPDATES.find((k) => k in update) ?? 'unknown';
    return { ignored: `update:${kind}` };
  }
  const msg = update.message;
  const chatType = msg.chat.type;
  const isGroup = chatType === 'group' || chatType === 'supergroup';
  if (!isGroup && chatType !== 'private') return { ignored: `chat:${chatType}` };

  const content = contentOf(msg);
  if ('ignored' in content) return content;

  const entities = content.entities;
  const command = leadingCommand(content.text, entities);
  // With the username unknown (getMe not answered yet) a suffixed command is taken as ours.
  if (command?.target && ctx.bot.username && !sameName(command.target, ctx.bot.username)) {
    return { ignored: 'command:other_bot' };
  }
  if (isGroup) {
    if (ctx.respondTo === 'none') return { ignored: 'group:disabled' };
    if (ctx.respondTo === 'mentioned' && !command && !addressesBot(msg, content.text, entities, ctx.bot)) {
      return { ignored: 'group:not_addressed' };
    }
  }

  const text = normalizeText(content.text, entities, ctx.bot, command);
  const threadId = 'is_topic_message' in msg && msg.is_topic_message ? msg.message_thread_id : undefined;
  const from = msg.from;
  const senderChat = 'sender_chat' in msg ? msg.sender_chat : undefined;
  const replyTo: TelegramReplyTo = {
    chatId: msg.chat.id,
    chatType,
    messageId: msg.message_id,
    quote: isGroup && ctx.quoteReplies,
    ...(threadId === undefined ? {} : { threadId }),
  };
  return {
    draft: {
      channel: 'telegram',
      channelId: ctx.channelId,
      platformMessageId: `u${update.update_id}`,
      platformChatId: threadId === undefined ? String(msg.chat.id) : `${msg.chat.id}:${threadId}`,
      sender: from
        ? { id: String(from.id), name: nameOf(from.first_name, from.last_name, from.username) }
        : {
            id: String(senderChat?.id ?? msg.chat.id),
            name: senderChat && 'title' in senderChat ? senderChat.title : undefined,
          },
      kind: content.kind,
      ...(text ? { text } : {}),
      attachments: content.attachments,
      replyTo,
      receivedAt: ctx.receivedAt,
      raw: update,
    },
  };
}

interface Content {
  kind: MessageKind;
  text: string;
  entities: MessageEntity[];
  attachments: Attachment[];
}

function contentOf(msg: Message): Content | { ignored: string } {
  const caption = 'caption' in msg && msg.caption ? msg.caption : '';
  const captionEntities = 'caption_entities' in msg && msg.caption_entities ? msg.caption_entities : [];
  const media = (kind: MessageKind, attachment: Attachment): Content => ({
    kind,
    text: caption,
    entities: captionEntities,
    attachments: [stripUndefined(attachment)],
  });
  if ('text' in msg && typeof msg.text === 'string') {
    return { kind: 'text', text: msg.text, entities: msg.entities ?? [], attachments: [] };
  }
  if ('photo' in msg && msg.photo.length > 0) {
    // Telegram sends several sizes, smallest first; the last is the original.
    const p = msg.photo[msg.photo.length - 1]!;
    return media('image', { mediaId: p.file_id, mime: 'image/jpeg', size: p.file_size });
  }
  if ('document' in msg) {
    const d = msg.document;
    return media('file', { mediaId: d.file_id, mime: d.mime_type, name: d.file_name, size: d.file_size });
  }
  if ('voice' in msg) {
    const v = msg.voice;
    return media('voice', { mediaId: v.file_id, mime: v.mime_type ?? 'audio/ogg', size: v.file_size });
  }
  if ('audio' in msg) {
    const a = msg.audio;
    return media('file', { mediaId: a.file_id, mime: a.mime_type, name: a.file_name, size: a.file_size });
  }
  if ('video' in msg) {
    const v = msg.video;
    return media('video', {
      mediaId: v.file_id,
      mime: v.mime_type ?? 'video/mp4',
      name: v.file_name,
      size: v.file_size,
    });
  }
  if ('location' in msg) {
    return {
      kind: 'location',
      text: `${msg.location.latitude},${msg.location.longitude}`,
      entities: [],
      attachments: [],
    };
  }
  const kind = [
    'sticker',
    'animation',
    'video_note',
    'contact',
    'poll',
    'dice',
    'venue',
    'game',
    'story',
  ].find((k) => k in msg);
  if (kind) return { ignored: `unsupported:${kind}` };
  // Joins, leaves, pins, title changes…: service messages, nothing to answer.
  const service = Object.keys(msg).find(
    (k) => !['message_id', 'date', 'chat', 'from', 'sender_chat', 'message_thread_id'].includes(k),
  );
  return { ignored: `service:${service ?? 'empty'}` };
}

interface Command {
  /** `/start` */
  name: string;
  /** Bot username after `@`, when given. */
  target?: string;
  /** UTF-16 length of `/start@bot`. */
  length: number;
}

/** Clients always send a `bot_command` entity; hand-made updates (the official sample) may not. */
const COMMAND = /^\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,64})?(?=\s|$)/;

function leadingCommand(text: string, entities: MessageEntity[]): Command | undefined {
  const e = entities.find((x) => x.type === 'bot_command' && x.offset === 0);
  const length = e?.length ?? (entities.length === 0 ? COMMAND.exec(text)?.[0].length : undefined);
  if (length === undefined) return undefined;
  const raw = text.slice(0, length);
  const at = raw.indexOf('@');
  return at < 0 ? { name: raw, length } : { name: raw.slice(0, at), target: raw.slice(at + 1), length };
}

function addressesBot(
  msg: Message,
  text: string,
  entities: MessageEntity[],
  bot: TelegramBotIdentity,
): boolean {
  const replied = 'reply_to_message' in msg ? msg.reply_to_message : undefined;
  if (replied?.from?.id === bot.id) return true;
  return entities.some((e) => isBotMention(e, text, bot));
}

function isBotMention(e: MessageEntity, text: string, bot: TelegramBotIdentity): boolean {
  if (e.type === 'text_mention') return e.user.id === bot.id;
  return e.type === 'mention' && sameName(text.slice(e.offset + 1, e.offset + e.length), bot.username);
}

/** Drop the `@bot` suffix of a leading command and the bot's own mentions, then tidy spaces. */
function normalizeText(
  text: string,
  entities: MessageEntity[],
  bot: TelegramBotIdentity,
  command?: Command,
): string {
  let out = text;
  // Right to left, so earlier offsets stay valid while cutting.
  const cuts = entities
    .filter((e) => isBotMention(e, text, bot) && e.type === 'mention')
    .map((e) => [e.offset, e.offset + e.length] as const);
  if (command?.target) cuts.push([command.name.length, command.length]);
  for (const [start, end] of cuts.sort((a, b) => b[0] - a[0])) out = out.slice(0, start) + out.slice(end);
  return out.replace(/[ \t]{2,}/g, ' ').trim();
}

function sameName(a: string, b: string | undefined): boolean {
  return b !== undefined && a.toLowerCase() === b.toLowerCase();
}

function nameOf(first: string, last?: string, username?: string): string | undefined {
  const full = [first, last].filter(Boolean).join(' ').trim();
  return full || username || undefined;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
