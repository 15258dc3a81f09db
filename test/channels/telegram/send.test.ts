/**
 * Outbound Telegram against a fake Bot API on 127.0.0.1 (telegraf's client with `apiRoot`):
 * the exact sendMessage body, splitting at 4,096 characters, flood control (429 retry_after),
 * retryable vs permanent failures, resuming a half-sent reply, typing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitTelegramText } from '../../../src/channels/telegram/index.ts';
import { ChannelSendError } from '../../../src/errors.ts';
import { type OutboundMessage, toOutboundMessage } from '../../../src/messages.ts';
import { FakeBotApi } from '../../fakes/telegram-bot-api.ts';
import { adapter, redisEnv, silentLogger, TOKEN } from './helpers.ts';

const env = redisEnv();
const api = new FakeBotApi({ token: TOKEN });
let tg: ReturnType<typeof adapter>;
beforeAll(async () => {
  await api.start();
  tg = adapter(env, { apiRoot: api.apiRoot });
});
afterAll(async () => {
  await api.close();
  await env.cleanup();
});

let seq = 0;
function reply(
  text: string | undefined,
  replyTo: Record<string, unknown> = { chatId: 1111111, chatType: 'private', messageId: 1365, quote: false },
  extra: Partial<OutboundMessage> = {},
) {
  return toOutboundMessage({
    conversationId: 'telegram:tg:1111111',
    channel: 'telegram',
    channelId: 'tg',
    replyTo,
    kind: 'text',
    text,
    idempotencyKey: `reply-${Date.now()}-${++seq}`,
    traceId: 'trace',
    ...extra,
  });
}
const ctx = () => ({ logger: silentLogger, signal: new AbortController().signal });

async function sendError(msg: OutboundMessage): Promise<ChannelSendError> {
  try {
    await tg.send(msg, ctx());
  } catch (err) {
    expect(err).toBeInstanceOf(ChannelSendError);
    return err as ChannelSendError;
  }
  throw new Error('send did not fail');
}

describe('send', () => {
  it('sends the reply with sendMessage to the chat of the official sample update', async () => {
    const before = api.sent.length;
    const res = await tg.send(reply('echo: hi'), ctx());
    expect(api.sent.slice(before).map((c) => [c.method, c.body])).toEqual([
      ['sendMessage', { chat_id: 1111111, text: 'echo: hi' }],
    ]);
    expect(res.platformMessageId).toMatch(/^\d+$/);
  });

  it('in groups it quotes the user on the first part only, and keeps the forum topic', async () => {
    const before = api.sent.length;
    const long = `${'a'.repeat(4000)}\n${'b'.repeat(200)}`;
    await tg.send(
      reply(long, { chatId: -100, chatType: 'supergroup', messageId: 501, quote: true, threadId: 42 }),
      ctx(),
    );
    const [first, second] = api.sent.slice(before).map((c) => c.body);
    expect(first).toMatchObject({
      chat_id: -100,
      message_thread_id: 42,
      reply_parameters: { message_id: 501, allow_sending_without_reply: true },
    });
    expect(second).toEqual({ chat_id: -100, message_thread_id: 42, text: 'b'.repeat(200) });
  });

  it('splits text over 4,096 characters into several messages, none too long, nothing lost', async () => {
    const text = Array.from({ length: 1500 }, (_, i) => `word${i}`).join(' ');
    expect(text.length).toBeGreaterThan(8192);
    const before = api.sent.length;
    await tg.send(reply(text), ctx());
    const texts = api.sent.slice(before).map((c) => c.body.text as string);
    expect(texts.length).toBe(4); // 12,389 characters
    for (const t of texts) expect(t.length).toBeLessThanOrEqual(4096);
    expect(texts.join(' ')).toBe(text);
  });

  it('splitting never cuts an emoji (surrogate pair) in half', () => {
    const parts = splitTelegramText('😀'.repeat(3000), 4096);
    for (const p of parts) expect(p).not.toMatch(/[\uD800-\uDBFF]$/);
    expect(parts.join('')).toBe('😀'.repeat(3000));
  });

  it('429 flood control is retryable and carries retry_after', async () => {
    api.failNext('sendMessage', FakeBotApi.floodControl(17));
    const err = await sendError(reply('slow down'));
    expect(err.retryable).toBe(true);
    expect(err.retryAfterSec).toBe(17);
  });

  it('5xx is retryable; 403 (blocked) and 400 (chat not found) are not', async () => {
    api.failNext('sendMessage', FakeBotApi.error(502, 'Bad Gateway'));
    expect((await sendError(reply('x'))).retryable).toBe(true);
    api.failNext('sendMessage', FakeBotApi.error(403, 'Forbidden: bot was blocked by the user'));
    expect((await sendError(reply('x'))).retryable).toBe(false);
    api.failNext('sendMessage', FakeBotApi.error(400, 'Bad Request: chat not found'));
    expect((await sendError(reply('x'))).retryable).toBe(false);
  });

  it('an unreachable Bot API is a retryable error', async () => {
    const offline = adapter(env, { apiRoot: 'http://127.0.0.1:9' });
    await expect(offline.send(reply('x'), ctx())).rejects.toMatchObject({ retryable: true });
  });

  it('a retried job resumes after the parts already delivered (no duplicate first part)', async () => {
    const text = `${'x'.repeat(4096)}${'y'.repeat(10)}`;
    const msg = reply(text);
    const before = api.sent.length;
    api.failNext('sendMessage', {
      status: 200,
      body: { ok: true, result: { message_id: 1, date: 0, chat: { id: 1, type: 'private' } } },
    });
    api.failNext('sendMessage', FakeBotApi.floodControl(1)); // second part fails after the first succeeded
    await expect(tg.send(msg, ctx())).rejects.toMatchObject({ retryable: true, retryAfterSec: 1 });
    await tg.send(msg, ctx()); // the outbound worker's retry
    const afterRetry = api.callsOf('sendMessage').slice(-1)[0]!;
    expect(afterRetry.body.text).toBe('y'.repeat(10));
    // First part went through the scripted 200 (not recorded in `sent`), second on retry: one each.
    expect(api.sent.length - before).toBe(1);
  });

  it('a group that became a supergroup gets the reply at its new id', async () => {
    api.failNext('sendMessage', {
      status: 400,
      body: {
        ok: false,
        error_code: 400,
        description: 'Bad Request: group chat was upgraded to a supergroup chat',
        parameters: { migrate_to_chat_id: -1009999 },
      },
    });
    const before = api.sent.length;
    await tg.send(reply('moved', { chatId: -555, chatType: 'group', messageId: 3, quote: false }), ctx());
    expect(api.sent.slice(before).map((c) => c.body.chat_id)).toEqual([-1009999]);
  });

  it('attachments go out as sendPhoto / sendDocument with the file id or URL', async () => {
    const before = api.sent.length;
    await tg.send(
      reply(undefined, undefined, {
        kind: 'file',
        attachments: [
          { mediaId: 'AgAD-large', mime: 'image/png' },
          { url: 'https://example.com/a.pdf', mime: 'application/pdf' },
        ],
      }),
      ctx(),
    );
    expect(api.sent.slice(before).map((c) => [c.method, c.body])).toEqual([
      ['sendPhoto', { chat_id: 1111111, photo: 'AgAD-large' }],
      ['sendDocument', { chat_id: 1111111, document: 'https://example.com/a.pdf' }],
    ]);
  });

  it('nothing to send, or no chat id, fails without retry', async () => {
    expect((await sendError(reply('   '))).retryable).toBe(false);
    expect((await sendError(reply('hi', {}))).retryable).toBe(false);
  });

  it('sendTyping calls sendChatAction(typing) in the right chat and topic', async () => {
    await tg.sendTyping({ chatId: -100, threadId: 42 }, ctx());
    expect(api.callsOf('sendChatAction').at(-1)?.body).toEqual({
      chat_id: -100,
      action: 'typing',
      message_thread_id: 42,
    });
  });
});
