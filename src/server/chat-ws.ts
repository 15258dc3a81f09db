/**
 * `WS /v1/chat/ws?session_id=` — the web conversation both ways over one socket.
 * Client → server: `{type:"send", text, client_msg_id?}`, `{type:"ping"}`.
 * Server → client: `{type:"ack", client_msg_id, message_id, duplicate}`, `{type:"message", …}`,
 * `{type:"typing"|"agent_joined"|"state"|"closed", …}`,
 * `{type:"delta", in_reply_to, stream_id, index, text, done?}` (an answer being written; the finished
 * one follows as `{type:"message"}`), `{type:"error", code, message, field?}`.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import type { ChatService } from '../channels/web/chat-service.ts';
import { SwitchboardError } from '../errors.ts';
import type { EventBus } from '../events/event-bus.ts';
import { toClientEvent } from './chat-wire.ts';

export interface ChatSocketDeps {
  chat: ChatService;
  bus: EventBus;
  logger: Logger;
  maxTextLength: number;
}

/** Client frames. Built once per server, not per socket: a schema costs kilobytes of heap. */
function frameSchema(maxTextLength: number) {
  return z.discriminatedUnion('type', [
    z.object({
      type: z.literal('send'),
      text: z
        .string()
        .trim()
        .min(1, 'must not be empty')
        .max(maxTextLength, `must be at most ${maxTextLength} characters`),
      client_msg_id: z.string().min(1).max(128).optional(),
    }),
    z.object({ type: z.literal('ping') }),
  ]);
}

type FrameSchema = ReturnType<typeof frameSchema>;

export function attachChatSocket(server: Server, deps: ChatSocketDeps): WebSocketServer {
  const frame = frameSchema(deps.maxTextLength);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/v1/chat/ws') return void socket.destroy();
    const sessionId = url.searchParams.get('session_id') ?? '';
    deps.chat.openSession(sessionId).then(
      (conversation) => wss.handleUpgrade(req, socket, head, (ws) => serve(ws, sessionId, conversation.id, deps, frame)),
      (err: unknown) => {
        const status = err instanceof SwitchboardError ? err.status : 500;
        socket.end(`HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Error'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      },
    );
  });
  return wss;
}

function serve(
  ws: WebSocket,
  sessionId: string,
  conversationId: string,
  deps: ChatSocketDeps,
  frame: FrameSchema,
): void {
  const send = (data: unknown) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(data));
  };
  // Handlers are attached synchronously (frames arriving meanwhile would be dropped) and wait for
  // the subscription, so replies to the first message cannot be published before we listen.
  const subscribed = deps.bus.subscribe(conversationId, (event) => {
    const out = toClientEvent(event);
    if (out) send({ type: out.name, ...(out.data as object) });
  });
  ws.on('close', () => void subscribed.then((unsubscribe) => unsubscribe()));

  // Frames of one socket are handled strictly one after another: that is the visitor's order.
  let queue: Promise<unknown> = subscribed;
  ws.on('message', (raw) => {
    queue = queue.then(() => handleFrame(raw.toString())).catch(() => {});
  });
  const handleFrame = async (raw: string) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return send({ type: 'error', code: 'bad_json', message: 'frame is not valid JSON' });
    }
    const result = frame.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      const field = issue?.path.join('.') || undefined;
      return send({ type: 'error', code: 'bad_request', message: `${field ? `${field}: ` : ''}${issue?.message}`, field });
    }
    const msg = result.data;
    if (msg.type === 'ping') return send({ type: 'pong' });
    try {
      const outcome = await deps.chat.send({ sessionId, text: msg.text, clientMsgId: msg.client_msg_id });
      send({ type: 'ack', client_msg_id: msg.client_msg_id ?? null, message_id: outcome.messageId, duplicate: outcome.duplicate });
    } catch (err) {
      const e = err instanceof SwitchboardError ? err : new SwitchboardError('internal', 'internal error');
      if (!(err instanceof SwitchboardError)) deps.logger.error({ err }, 'websocket send failed');
      send({ type: 'error', code: e.code, message: e.message, client_msg_id: msg.client_msg_id ?? null });
    }
  };
}
