/**
 * TEST-ONLY channel: a JSON webhook in, a JSON POST out, so hub processes started as children of a
 * test (chaos tests, benchmarks) can be driven by a fake platform on 127.0.0.1 that counts every
 * reply it receives. Registered only when `SWITCHBOARD_TEST_CHANNELS=1`; never enable it in
 * production (its "signature" is a shared token).
 *
 *   POST /webhooks/loopback/<id>   header `x-loopback-token: <token>`
 *        {"message_id": "m1", "chat_id": "c1", "text": "hi", "sender": "u1"}
 *   → replies: POST <url> {"reply_id", "idempotency_key", "in_reply_to", "chat_id", "text"}
 *     2xx = delivered; 429 honours Retry-After; other 4xx are final; 5xx and no answer are retried.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ChannelSendError, PayloadError, VerificationError } from '../../errors.ts';
import { httpJson } from '../shared/http.ts';
import type { ChannelType, ParseResult, WebhookRequest } from '../types.ts';

export const LOOPBACK_CHANNEL = 'loopback';

export const loopbackConfigSchema = z.looseObject({
  id: z.string(),
  type: z.literal(LOOPBACK_CHANNEL),
  /** Where replies are POSTed (the fake platform). */
  url: z.url(),
  /** Shared secret expected in `x-loopback-token`. */
  token: z.string().min(1),
  /** Per-send timeout in milliseconds. */
  timeoutMs: z.number().int().min(1).default(10_000),
});
export type LoopbackConfig = z.infer<typeof loopbackConfigSchema>;

const inboundSchema = z.object({
  message_id: z.string().min(1),
  chat_id: z.string().min(1),
  text: z.string(),
  sender: z.string().min(1).optional(),
});

export const loopbackChannel: ChannelType<LoopbackConfig> = {
  type: LOOPBACK_CHANNEL,
  configSchema: loopbackConfigSchema,
  create(id, config) {
    const expected = digest(config.token);
    return {
      type: LOOPBACK_CHANNEL,
      id,
      verify(req: WebhookRequest) {
        const given = req.headers['x-loopback-token'];
        if (!given || !timingSafeEqual(digest(given), expected))
          throw new VerificationError('loopback: bad token');
      },
      parse(req: WebhookRequest): ParseResult {
        let body: z.infer<typeof inboundSchema>;
        try {
          body = inboundSchema.parse(JSON.parse(req.rawBody.toString('utf8')));
        } catch (err) {
          throw new PayloadError('loopback: body must be {message_id, chat_id, text}', {
            field: 'body',
            cause: err,
          });
        }
        return {
          messages: [
            {
              channel: LOOPBACK_CHANNEL,
              channelId: id,
              platformMessageId: body.message_id,
              platformChatId: body.chat_id,
              sender: { id: body.sender ?? body.chat_id },
              kind: 'text',
              text: body.text,
              replyTo: { chatId: body.chat_id },
              receivedAt: req.receivedAt,
            },
          ],
          response: { status: 200, body: '{"ok":true}', headers: { 'content-type': 'application/json' } },
        };
      },
      async send(message, ctx) {
        const res = await httpJson(config.url, {
          body: {
            reply_id: message.id,
            idempotency_key: message.idempotencyKey,
            in_reply_to: message.inReplyTo ?? null,
            chat_id: message.replyTo.chatId ?? null,
            text: message.text ?? '',
          },
          headers: { 'idempotency-key': message.idempotencyKey },
          timeoutMs: config.timeoutMs,
          signal: ctx.signal,
        });
        if (res.status >= 200 && res.status < 300) return { platformMessageId: message.id };
        const retryAfter = Number(res.headers.get('retry-after'));
        throw new ChannelSendError(`loopback platform answered ${res.status}`, {
          retryable: res.status >= 500 || res.status === 429,
          ...(res.status === 429 && retryAfter > 0 ? { retryAfterSec: retryAfter } : {}),
        });
      },
    };
  },
};

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
