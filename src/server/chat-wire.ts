/**
 * What visitors' clients see: the same JSON shapes over SSE, WebSocket and HTTP answers.
 * snake_case on the wire, like the request bodies.
 */
import type { ConversationEvent } from '../events/event-bus.ts';
import type { InboundMessage, OutboundMessage } from '../messages.ts';

export interface ClientMessage {
  id: string;
  role: 'visitor' | 'bot' | 'agent' | 'system';
  kind: string;
  text?: string;
  attachments?: unknown[];
  in_reply_to?: string;
  /** Display name of the human agent who wrote it (role `agent`). */
  agent_name?: string;
  created_at: string;
}

export function toClientMessage(
  message: InboundMessage | OutboundMessage,
  direction: 'in' | 'out' = 'out',
): ClientMessage {
  if (direction === 'in') {
    const m = message as InboundMessage;
    return {
      id: m.id,
      role: 'visitor',
      kind: m.kind,
      text: m.text,
      attachments: m.attachments,
      created_at: m.receivedAt,
    };
  }
  const m = message as OutboundMessage;
  return {
    id: m.id,
    role: m.author,
    kind: m.kind,
    text: m.text,
    attachments: m.attachments,
    in_reply_to: m.inReplyTo,
    ...(m.agent ? { agent_name: m.agent.name } : {}),
    created_at: m.createdAt,
  };
}

/** SSE event name, data and id for a conversation event; null for internal-only events. */
export function toClientEvent(event: ConversationEvent): { name: string; data: unknown; id?: string } | null {
  switch (event.type) {
    case 'reply':
      return { name: 'message', data: toClientMessage(event.message), id: event.message.id };
    case 'typing':
      return { name: 'typing', data: { on: event.on } };
    case 'state':
      return event.state === 'agent'
        ? { name: 'agent_joined', data: { agent: event.assignee ?? null, name: event.agentName ?? null } }
        : { name: 'state', data: { state: event.state } };
    case 'closed':
      return { name: 'closed', data: {} };
    case 'delta':
      return {
        name: 'delta',
        data: {
          in_reply_to: event.inReplyTo,
          stream_id: event.streamId,
          index: event.index,
          text: event.text,
          ...(event.done ? { done: true } : {}),
        },
      };
    case 'run':
    case 'recorded':
      return null;
  }
}
