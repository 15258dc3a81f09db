/**
 * Webhook ingress of the Telegram adapter: the secret-token check and Update → draft, starting
 * from the official sample Update.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { telegramConfigSchema } from '../../../src/channels/telegram/config.ts';
import { PayloadError, VerificationError } from '../../../src/errors.ts';
import { toInboundMessage } from '../../../src/messages.ts';
import { adapter, official, redisEnv, SECRET, updates, webhook } from './helpers.ts';

const env = redisEnv();
afterAll(() => env.cleanup());
const tg = adapter(env);

describe('verify: X-Telegram-Bot-Api-Secret-Token', () => {
  it('accepts the configured secret', () => {
    expect(() => tg.verify(webhook(official.update_text_official.update))).not.toThrow();
  });

  it.each([
    ['missing', {}],
    ['wrong', { 'x-telegram-bot-api-secret-token': `${SECRET}x` }],
    ['prefix of the secret', { 'x-telegram-bot-api-secret-token': SECRET.slice(0, -1) }],
    ['empty', { 'x-telegram-bot-api-secret-token': '' }],
  ])('rejects a %s secret with VerificationError', (_name, headers) => {
    expect(() => tg.verify(webhook(official.update_text_official.update, headers))).toThrow(
      VerificationError,
    );
  });

  it('parse refuses a request verify() never accepted', () => {
    expect(() => tg.parse(webhook(official.update_text_official.update, {}))).toThrow(VerificationError);
  });

  it('refuses webhook calls on a polling-mode channel', () => {
    const polling = adapter(env, { mode: 'polling', secretToken: undefined });
    expect(() => polling.verify(webhook(official.update_text_official.update))).toThrow(VerificationError);
  });

  it('config: webhook mode without a secret token is a config error naming the field', () => {
    const r = telegramConfigSchema.safeParse({ id: 'tg', type: 'telegram', token: '1:abc' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['secretToken']);
  });
});

describe('parse', () => {
  it('the official sample Update becomes a valid text message keeping "/start"', () => {
    const result = tg.parse(webhook(official.update_text_official.update));
    expect(result.messages).toHaveLength(1);
    const m = toInboundMessage(result.messages[0]!);
    expect(m).toMatchObject({
      channel: 'telegram',
      channelId: 'tg',
      dedupeKey: 'telegram:tg:u10000',
      conversationId: 'telegram:tg:1111111',
      sender: { id: '1111111', name: 'Test Firstname Test Lastname' },
      kind: 'text',
      text: '/start',
      replyTo: { chatId: 1111111, chatType: 'private', messageId: 1365, quote: false },
      raw: official.update_text_official.update,
    });
  });

  it('the same update delivered twice yields the same platformMessageId', () => {
    const a = tg.parse(webhook(official.update_text_official.update)).messages[0]!;
    const b = tg.parse(webhook(official.update_text_official.update)).messages[0]!;
    expect(a.platformMessageId).toBe('u10000');
    expect(b.platformMessageId).toBe(a.platformMessageId);
  });

  it('a photo keeps the largest size as attachment and the caption as text', () => {
    const [d] = tg.parse(webhook(updates.private_photo)).messages;
    expect(d).toMatchObject({
      kind: 'image',
      text: 'is this item damaged?',
      attachments: [{ mediaId: 'AgAD-large', mime: 'image/jpeg', size: 98000 }],
      sender: { id: '555', name: 'Ann Lee' },
    });
  });

  it('documents and voice notes become file and voice attachments', () => {
    expect(tg.parse(webhook(updates.private_document)).messages[0]).toMatchObject({
      kind: 'file',
      attachments: [{ mediaId: 'BQAD-doc', mime: 'application/pdf', name: 'invoice.pdf', size: 34567 }],
    });
    const voice = tg.parse(webhook(updates.private_voice)).messages[0]!;
    expect(voice).toMatchObject({
      kind: 'voice',
      attachments: [{ mediaId: 'AwAD-voice', mime: 'audio/ogg' }],
    });
    expect(voice.text).toBeUndefined();
  });

  it('a group message mentioning the bot is kept, without the mention, and quotes the user', () => {
    const [d] = tg.parse(webhook(updates.group_mention)).messages;
    expect(d).toMatchObject({
      text: 'where is my order?',
      platformChatId: '-1001234567890',
      replyTo: { chatId: -1001234567890, chatType: 'supergroup', messageId: 501, quote: true },
    });
  });

  it('an unaddressed group message is ignored (listed, not queued)', () => {
    expect(tg.parse(webhook(updates.group_unaddressed))).toEqual({
      messages: [],
      ignored: ['group:not_addressed'],
    });
  });

  it("a reply to one of the bot's messages counts as addressed", () => {
    expect(tg.parse(webhook(updates.group_reply_to_bot)).messages[0]?.text).toBe(
      'thanks, and the tracking number?',
    );
  });

  it('a command keeps its text without the @botname suffix; one for another bot is ignored', () => {
    expect(tg.parse(webhook(updates.group_command_suffix)).messages[0]?.text).toBe('/help refunds');
    expect(tg.parse(webhook(updates.group_command_other_bot)).ignored).toEqual(['command:other_bot']);
  });

  it('a forum-topic text_mention is addressed and its conversation is the topic', () => {
    const [d] = tg.parse(webhook(updates.forum_topic_text_mention)).messages;
    expect(d).toMatchObject({
      text: 'Bot can you help',
      platformChatId: '-1009876543210:42',
      replyTo: { chatId: -1009876543210, threadId: 42 },
    });
  });

  it('respondTo: all takes every group message; none takes none', () => {
    expect(
      adapter(env, { groups: { respondTo: 'all' } }).parse(webhook(updates.group_unaddressed)).messages,
    ).toHaveLength(1);
    expect(
      adapter(env, { groups: { respondTo: 'none' } }).parse(webhook(updates.group_mention)).ignored,
    ).toEqual(['group:disabled']);
  });

  it('edits, stickers and service messages are ignored by name', () => {
    expect(tg.parse(webhook(updates.edited_message)).ignored).toEqual(['update:edited_message']);
    expect(tg.parse(webhook(updates.sticker)).ignored).toEqual(['unsupported:sticker']);
    expect(tg.parse(webhook(updates.group_joined)).ignored).toEqual(['service:new_chat_members']);
  });

  it('a body that is not an Update is a PayloadError naming the field', () => {
    expect(() => tg.parse(webhook('not json'))).toThrow(PayloadError);
    try {
      tg.parse(webhook({ update_id: 'x' }));
      expect.unreachable();
    } catch (err) {
      expect((err as PayloadError).details).toEqual({ field: 'update_id' });
    }
    try {
      tg.parse(webhook({ update_id: 1, message: { message_id: 1, chat: {} } }));
      expect.unreachable();
    } catch (err) {
      expect((err as PayloadError).details).toEqual({ field: 'message.chat.id' });
    }
  });
});
