/**
 * The visitor side of the web channel, independent of transport: the HTTP routes, the SSE stream
 * and the WebSocket all call this. Sessions are conversations of the `web` channel.
 */
import { randomBytes } from 'node:crypto';
import { NotFoundError, SwitchboardError } from '../../errors.ts';
import type { EventBus } from '../../events/event-bus.ts';
import { conversationIdOf, type InboundDraft, type OutboundMessage, stableId } from '../../messages.ts';
import type { Ingest } from '../../queue/ingest.ts';
import type { Conversation, Store, StoredMessage } from '../../store/types.ts';
import { WEB_CHANNEL } from './index.ts';
import { waitForReplies } from './reply-waiter.ts';

export interface ChatServiceDeps {
  store: Store;
  bus: EventBus;
  ingest: Ingest;
  /** Web channel instance ids configured in hub.yaml; the first is the default. */
  channelIds: string[];
}

export interface SendInput {
  sessionId: string;
  text: string;
  clientMsgId?: string;
  /** Wait for the replies of this message, at most this long. */
  waitMs?: number;
}

export interface SendOutcome {
  messageId: string;
  duplicate: boolean;
  /** Present when the caller waited. */
  replies?: OutboundMessage[];
}

export class ChatService {
  constructor(private readonly deps: ChatServiceDeps) {}

  async createSession(input: {
    channelId?: string;
    visitor?: { id?: string; name?: string };
    meta?: Record<string, unknown>;
  }) {
    const channelId = input.channelId ?? this.deps.channelIds[0];
    if (!channelId || !this.deps.channelIds.includes(channelId)) {
      throw new NotFoundError(`no web channel "${input.channelId}" is configured`);
    }
    const sessionId = randomBytes(18).toString('base64url');
    const conversation = await this.deps.store.ensureConversation({
      id: conversationIdOf(WEB_CHANNEL, channelId, sessionId),
      channel: WEB_CHANNEL,
      channelId,
      meta: { visitor: input.visitor ?? {}, ...input.meta },
    });
    return { sessionId, conversationId: conversation.id, channelId };
  }

  /** The open conversation of a session, or a 404/409 error. */
  async openSession(sessionId: string): Promise<Conversation> {
    const conversation = await this.findSession(sessionId);
    if (conversation.state === 'closed') {
      throw new SwitchboardError('session_closed', 'this chat session is closed; create a new one', {
        status: 409,
      });
    }
    return conversation;
  }

  async send(input: SendInput): Promise<SendOutcome> {
    const conversation = await this.openSession(input.sessionId);
    const visitor = (conversation.meta.visitor ?? {}) as { id?: string; name?: string };
    const platformMessageId = `${input.sessionId}/${input.clientMsgId ?? randomBytes(12).toString('base64url')}`;
    const draft: InboundDraft = {
      channel: WEB_CHANNEL,
      channelId: conversation.channelId,
      platformMessageId,
      platformChatId: input.sessionId,
      sender: { id: visitor.id ?? input.sessionId, name: visitor.name },
      kind: 'text',
      text: input.text,
      replyTo: { sessionId: input.sessionId, conversationId: conversation.id },
    };
    const messageId = stableId('m', `${WEB_CHANNEL}:${conversation.channelId}:${platformMessageId}`);
    if (input.waitMs === undefined) {
      const [outcome] = await this.deps.ingest([draft]);
      return { messageId, duplicate: outcome?.status === 'duplicate' };
    }
    // Listen before enqueueing, so no reply can slip past between the two.
    const waiter = await waitForReplies(this.deps, conversation.id, messageId, input.waitMs);
    try {
      const [outcome] = await this.deps.ingest([draft]);
      const duplicate = outcome?.status === 'duplicate';
      return { messageId, duplicate, replies: await waiter.result(duplicate) };
    } finally {
      await waiter.cancel();
    }
  }

  async close(sessionId: string): Promise<void> {
    const conversation = await this.findSession(sessionId);
    const closed = await this.deps.store.transitionConversation(
      conversation.id,
      ['bot', 'queued', 'agent'],
      'closed',
    );
    if (closed) await this.deps.bus.publish(conversation.id, { type: 'closed' });
  }

  /** Messages of the session in order (both directions), after a known message id. */
  async history(sessionId: string, afterMessageId?: string, limit = 200): Promise<StoredMessage[]> {
    const conversation = await this.findSession(sessionId);
    let afterSeq: number | undefined;
    if (afterMessageId) afterSeq = (await this.deps.store.getMessage(afterMessageId))?.seq;
    return this.deps.store.listMessages(conversation.id, { afterSeq, limit });
  }

  private async findSession(sessionId: string): Promise<Conversation> {
    for (const channelId of this.deps.channelIds) {
      const conversation = await this.deps.store.getConversation(
        conversationIdOf(WEB_CHANNEL, channelId, sessionId),
      );
      if (conversation) return conversation;
    }
    throw new NotFoundError('unknown session_id; create a session with POST /v1/chat/create');
  }
}
