/**
 * Outbound Telegram through telegraf's Bot API client: sendMessage (split at 4,096 characters),
 * sendPhoto / sendDocument for attachments, sendChatAction for "typing…".
 *
 * Each part is remembered in Redis once Telegram accepted it, so a retried job (a later part hit
 * flood control) resumes where it stopped instead of sending the first parts twice. Errors become
 * ChannelSendError: 429 carries Telegram's `retry_after`, 5xx and network failures are retryable,
 * other 4xx (blocked by the user, chat not found, bad request) are not.
 *
 * @see https://core.telegram.org/bots/api#sendmessage
 * @see https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type Telegram, TelegramError } from 'telegraf';
import type { Message } from 'telegraf/types';
import { ChannelSendError, errorMessage } from '../../errors.ts';
import type { OutboundMessage } from '../../messages.ts';
import { redisKey } from '../shared/keys.ts';
import type { SendContext, SendResult } from '../types.ts';

/** Bot API limit of `text` (1–4096 characters after entity parsing; plain text has no entities). */
export const TELEGRAM_TEXT_MAX = 4096;
/** Sent-part markers outlive every retry schedule of the outbound queue. */
const PROGRESS_TTL_SEC = 2 * 86_400;

export interface TelegramSendDeps {
  telegram: Telegram;
  redis: Redis;
  keyPrefix: string;
  botId: number;
  requestTimeoutMs: number;
  logger: Logger;
}

interface Target {
  chatId: number | string;
  threadId?: number;
  quoteMessageId?: number;
}

type Part = { method: 'sendMessage'; text: string } | { method: 'sendPhoto' | 'sendDocument'; file: string };

export async function sendTelegram(
  deps: TelegramSendDeps,
  msg: OutboundMessage,
  ctx: SendContext,
): Promise<SendResult> {
  const target = targetOf(msg.replyTo);
  const parts = partsOf(msg);
  const ids: string[] = [];
  for (const [i, part] of parts.entries()) {
    const doneKey = redisKey(deps.keyPrefix, 'telegram', deps.botId, 'sent', msg.idempotencyKey, i);
    const already = await deps.redis.get(doneKey);
    if (already !== null) {
      ids.push(already);
      continue;
    }
    const sent = await callPart(deps, target, part, i === 0, ctx.signal);
    ids.push(String(sent.message_id));
    await deps.redis.set(doneKey, String(sent.message_id), 'EX', PROGRESS_TTL_SEC).catch((err: unknown) => {
      // Delivered but not recorded: a retry of this job would repeat this part.
      ctx.logger.warn({ err, part: i }, 'telegram: could not record sent part');
    });
  }
  return { platformMessageId: ids.join(',') };
}

/** "typing…" for about five seconds, or until the bot's next message. */
export async function sendTelegramTyping(
  deps: Pick<TelegramSendDeps, 'telegram' | 'requestTimeoutMs'>,
  replyTo: Record<string, unknown>,
  signal: AbortSignal,
): Promise<void> {
  const target = targetOf(replyTo);
  try {
    /** @see https://core.telegram.org/bots/api#sendchataction */
    await deps.telegram.callApi(
      'sendChatAction',
      {
        chat_id: target.chatId,
        action: 'typing',
        ...(target.threadId ? { message_thread_id: target.threadId } : {}),
      },
      callOptions(signal, deps.requestTimeoutMs),
    );
  } catch (err) {
    throw toSendError(err, 'sendChatAction');
  }
}

function targetOf(replyTo: Record<string, unknown>): Target {
  const chatId = replyTo.chatId;
  if (
    !(typeof chatId === 'number' && Number.isSafeInteger(chatId)) &&
    !(typeof chatId === 'string' && chatId !== '')
  ) {
    throw new ChannelSendError('telegram: replyTo.chatId is missing', { retryable: false });
  }
  const threadId = typeof replyTo.threadId === 'number' ? replyTo.threadId : undefined;
  const quote =
    replyTo.quote === true && typeof replyTo.messageId === 'number' ? replyTo.messageId : undefined;
  return { chatId, threadId, quoteMessageId: quote };
}

function partsOf(msg: OutboundMessage): Part[] {
  // Markdown goes out as plain text: LLM markdown is rarely valid MarkdownV2, and Telegram refuses
  // the whole message (400) on one unescaped character.
  const parts: Part[] = splitTelegramText(msg.text ?? '').map((text) => ({ method: 'sendMessage', text }));
  for (const a of msg.attachments) {
    const file = a.mediaId ?? a.url;
    if (!file)
      throw new ChannelSendError('telegram: attachment needs a url or a file_id', { retryable: false });
    const photo = msg.kind === 'image' || (a.mime?.startsWith('image/') ?? false);
    parts.push({ method: photo ? 'sendPhoto' : 'sendDocument', file });
  }
  if (parts.length === 0)
    throw new ChannelSendError('telegram: nothing to send (empty text, no attachments)', {
      retryable: false,
    });
  return parts;
}

async function callPart(
  deps: TelegramSendDeps,
  target: Target,
  part: Part,
  first: boolean,
  signal: AbortSignal,
): Promise<Message> {
  const common = {
    chat_id: target.chatId,
    ...(target.threadId ? { message_thread_id: target.threadId } : {}),
    // Quote the user's message once, on the first part; a deleted original must not fail the reply.
    ...(first && target.quoteMessageId
      ? { reply_parameters: { message_id: target.quoteMessageId, allow_sending_without_reply: true } }
      : {}),
  };
  const opts = callOptions(signal, deps.requestTimeoutMs);
  try {
    if (part.method === 'sendMessage') {
      /** @see https://core.telegram.org/bots/api#sendmessage */
      return await deps.telegram.callApi('sendMessage', { ...common, text: part.text }, opts);
    }
    if (part.method === 'sendPhoto') {
      /** @see https://core.telegram.org/bots/api#sendphoto */
      return await deps.telegram.callApi('sendPhoto', { ...common, photo: part.file }, opts);
    }
    /** @see https://core.telegram.org/bots/api#senddocument */
    return await deps.telegram.callApi('sendDocument', { ...common, document: part.file }, opts);
  } catch (err) {
    const migrated = err instanceof TelegramError ? err.parameters?.migrate_to_chat_id : undefined;
    if (migrated !== undefined && migrated !== target.chatId) {
      // The group became a supergroup with a new id: Telegram tells us where it went.
      deps.logger.info({ from: target.chatId, to: migrated }, 'telegram: chat migrated to a supergroup');
      return callPart(deps, { ...target, chatId: migrated }, part, first, signal);
    }
    throw toSendError(err, part.method);
  }
}

/** Map a telegraf failure to the hub's retry semantics. */
export function toSendError(err: unknown, method: string): ChannelSendError {
  if (err instanceof TelegramError) {
    const code = err.code;
    if (code === 429) {
      const after = err.parameters?.retry_after;
      return new ChannelSendError(`telegram ${method}: flood control (${err.description})`, {
        retryable: true,
        retryAfterSec: typeof after === 'number' ? after : undefined,
        cause: err,
      });
    }
    // 401: token revoked; 403: blocked by the user / kicked; 400: chat not found, bad request.
    return new ChannelSendError(`telegram ${method}: ${code} ${err.description}`, {
      retryable: code >= 500,
      cause: err,
    });
  }
  // Network failure, timeout, or a non-JSON answer from a proxy: the request may be retried.
  return new ChannelSendError(`telegram ${method}: ${errorMessage(err)}`, { retryable: true, cause: err });
}

/** telegraf takes an abort signal per call; combine the job's with our own timeout. */
export function callOptions(signal: AbortSignal, timeoutMs: number): { signal: never } {
  // telegraf types the signal with the `abort-controller` polyfill; node-fetch accepts the native one.
  return { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) as never };
}

/**
 * Split into parts of at most `max` UTF-16 units (Telegram's character count), never inside a
 * surrogate pair; a part ends at the last line break, else the last space, in its final quarter.
 */
export function splitTelegramText(text: string, max = TELEGRAM_TEXT_MAX): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = max;
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut -= 1; // high surrogate: keep the pair together
    const window = rest.slice(Math.floor(cut * 0.75), cut);
    const nl = window.lastIndexOf('\n');
    const sp = window.lastIndexOf(' ');
    const at = nl >= 0 ? nl : sp;
    if (at >= 0) cut = Math.floor(cut * 0.75) + at + 1;
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut);
  }
  if (rest.trim().length > 0) parts.push(rest);
  return parts.filter((p) => p.length > 0);
}
