/**
 * Message and run builders for the store tests. Every builder takes a unique scope, so tests
 * sharing one database never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import {
  conversationIdOf,
  type InboundMessage,
  type OutboundMessage,
  toInboundMessage,
  toOutboundMessage,
} from '../../src/messages.ts';
import type { WorkflowRun } from '../../src/store/types.ts';

/** ISO-8601 with milliseconds and `Z`, as the store returns every timestamp. */
export const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export function uniq(prefix = 't'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

export interface Chat {
  conversationId: string;
  chatId: string;
}

export function newChat(): Chat {
  const chatId = uniq('chat');
  return { chatId, conversationId: conversationIdOf('web', 'site', chatId) };
}

export function inbound(
  chat: Chat,
  text: string,
  extra: { raw?: unknown; platformMessageId?: string } = {},
): InboundMessage {
  return toInboundMessage({
    channel: 'web',
    channelId: 'site',
    platformMessageId: extra.platformMessageId ?? uniq('pm'),
    platformChatId: chat.chatId,
    sender: { id: 'visitor-1', name: '访客' },
    kind: 'text',
    text,
    replyTo: { sessionId: chat.chatId },
    raw: extra.raw,
  });
}

export function outbound(
  chat: Chat,
  text: string,
  opts: { inReplyTo?: string; author?: OutboundMessage['author']; key?: string } = {},
): OutboundMessage {
  return toOutboundMessage({
    conversationId: chat.conversationId,
    channel: 'web',
    channelId: 'site',
    replyTo: { sessionId: chat.chatId },
    kind: 'text',
    text,
    inReplyTo: opts.inReplyTo,
    idempotencyKey: opts.key ?? uniq('key'),
    author: opts.author,
    traceId: uniq('trace'),
  });
}

export function run(chat: Chat, inboundMessageId: string, patch: Partial<WorkflowRun> = {}): WorkflowRun {
  return {
    id: uniq('run'),
    inboundMessageId,
    conversationId: chat.conversationId,
    workflow: 'after-sales',
    status: 'ok',
    steps: [
      {
        id: 'recall',
        kind: 'parallel',
        status: 'ok',
        ms: 12.5,
        children: [
          {
            id: 'kb',
            kind: 'kb',
            status: 'ok',
            ms: 3,
            output: { top: { answer: '七天无理由退货', score: 0.92 } },
          },
          { id: 'dify', kind: 'dify', status: 'timeout', ms: 3000, error: 'timed out after 3s' },
        ],
      },
    ],
    error: null,
    traceId: uniq('trace'),
    startedAt: new Date().toISOString(),
    durationMs: 42,
    ...patch,
  };
}
