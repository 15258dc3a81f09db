/**
 * The normalized message model (see DESIGN.md, "InboundMessage").
 *
 * Jobs carry plain JSON only: no class instances, no Dates (ISO strings instead), so a job
 * written by one version of the hub can be read by the next. `v` versions the shape.
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';

export const MESSAGE_KINDS = ['text', 'image', 'voice', 'video', 'file', 'location', 'event'] as const;
export const messageKindSchema = z.enum(MESSAGE_KINDS);
export type MessageKind = z.infer<typeof messageKindSchema>;

export const attachmentSchema = z.object({
  /** A fetchable URL, or the platform's media id when the platform only gives one. */
  url: z.string().optional(),
  mediaId: z.string().optional(),
  mime: z.string().optional(),
  name: z.string().optional(),
  size: z.number().int().nonnegative().optional(),
});
export type Attachment = z.infer<typeof attachmentSchema>;

export const senderSchema = z.object({ id: z.string().min(1), name: z.string().optional() });

/** Whatever the adapter needs to answer: chat id, session webhook, open id, … Opaque to the core. */
export const replyToSchema = z.record(z.string(), z.unknown());
export type ReplyTo = z.infer<typeof replyToSchema>;

export const inboundMessageSchema = z.object({
  v: z.literal(1),
  /** Hub id, derived from the dedupe key so a redelivery maps to the same id. */
  id: z.string().min(1),
  /** `channel:channelId:platformMessageId`. */
  dedupeKey: z.string().min(1),
  channel: z.string().min(1),
  channelId: z.string().min(1),
  /** Stable per platform chat/thread: `channel:channelId:platformChatId`. */
  conversationId: z.string().min(1),
  sender: senderSchema,
  kind: messageKindSchema,
  text: z.string().optional(),
  /** For `kind: event`: the platform's event name (e.g. `subscribe`, `enter_session`). */
  event: z.string().optional(),
  attachments: z.array(attachmentSchema).default([]),
  replyTo: replyToSchema,
  receivedAt: z.string(),
  traceId: z.string().min(1),
  raw: z.unknown().optional(),
});
export type InboundMessage = z.infer<typeof inboundMessageSchema>;

/** What an adapter produces from one platform payload; `toInboundMessage` fills in the rest. */
export interface InboundDraft {
  channel: string;
  channelId: string;
  /** The platform's own id for this message (or a stable composite for events). */
  platformMessageId: string;
  /** The platform's chat/thread id; one conversation per value. */
  platformChatId: string;
  sender: { id: string; name?: string };
  kind: MessageKind;
  text?: string;
  event?: string;
  attachments?: Attachment[];
  replyTo: ReplyTo;
  receivedAt?: Date | string;
  traceId?: string;
  raw?: unknown;
}

export const outboundMessageSchema = z.object({
  v: z.literal(1),
  /** Hub id of this reply, derived from the idempotency key. */
  id: z.string().min(1),
  conversationId: z.string().min(1),
  channel: z.string().min(1),
  channelId: z.string().min(1),
  replyTo: replyToSchema,
  kind: z.enum(['text', 'markdown', 'image', 'file', 'event']),
  text: z.string().optional(),
  attachments: z.array(attachmentSchema).default([]),
  /** Inbound message id this answers (absent for proactive or agent-initiated messages). */
  inReplyTo: z.string().optional(),
  /** Same key ⇒ same reply: a re-run workflow or a replayed job never sends twice. */
  idempotencyKey: z.string().min(1),
  /** Who wrote it: the bot (workflow), a human agent, or the system (apology, notices). */
  author: z.enum(['bot', 'agent', 'system']).default('bot'),
  /** The human agent who wrote it (author `agent`): shown to visitors and in the console. */
  agent: z.object({ id: z.string().min(1), name: z.string() }).optional(),
  traceId: z.string().min(1),
  createdAt: z.string(),
});
export type OutboundMessage = z.infer<typeof outboundMessageSchema>;
export type OutboundDraft = Omit<OutboundMessage, 'v' | 'id' | 'attachments' | 'author' | 'createdAt'> & {
  attachments?: Attachment[];
  author?: OutboundMessage['author'];
};

/** Short, stable, URL- and BullMQ-safe id (BullMQ rejects `:` and purely numeric custom ids). */
export function stableId(prefix: string, key: string): string {
  return `${prefix}_${createHash('sha256').update(key).digest('base64url').slice(0, 26)}`;
}

export function newTraceId(): string {
  return randomUUID().replaceAll('-', '');
}

export function conversationIdOf(channel: string, channelId: string, platformChatId: string): string {
  return `${channel}:${channelId}:${platformChatId}`;
}

/** Fill the derived fields of an adapter's draft and validate the result. Throws a ZodError on a bad draft. */
export function toInboundMessage(draft: InboundDraft): InboundMessage {
  const dedupeKey = `${draft.channel}:${draft.channelId}:${draft.platformMessageId}`;
  const receivedAt =
    draft.receivedAt instanceof Date
      ? draft.receivedAt.toISOString()
      : (draft.receivedAt ?? new Date().toISOString());
  return inboundMessageSchema.parse({
    v: 1,
    id: stableId('m', dedupeKey),
    dedupeKey,
    channel: draft.channel,
    channelId: draft.channelId,
    conversationId: conversationIdOf(draft.channel, draft.channelId, draft.platformChatId),
    sender: draft.sender,
    kind: draft.kind,
    text: draft.text,
    event: draft.event,
    attachments: draft.attachments ?? [],
    replyTo: draft.replyTo,
    receivedAt,
    traceId: draft.traceId ?? newTraceId(),
    raw: draft.raw,
  });
}

export function toOutboundMessage(draft: OutboundDraft): OutboundMessage {
  return outboundMessageSchema.parse({
    ...draft,
    v: 1,
    id: stableId('o', draft.idempotencyKey),
    attachments: draft.attachments ?? [],
    author: draft.author ?? 'bot',
    createdAt: new Date().toISOString(),
  });
}
