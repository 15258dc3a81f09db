/**
 * A local fake of Coze's v3 chat API on 127.0.0.1 (shared/protocols test-vectors.json, `coze`
 * entry): `POST /v3/chat[?conversation_id=…]` with `stream: true` and a Bearer token, answering
 * in Coze's wire format (`event:name` / `data:json`, no space after the colon, `event:done` with
 * `data:"[DONE]"` last). `official: true` replays the official sample stream; otherwise the bot
 * echoes the query in pieces and remembers conversations. Failures can be scripted: the official
 * `chat.failed` event, a stream cut before `chat.completed`, a server that never finishes.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type LocalServer, listenLocally } from './local-server.ts';

/** The official sample's values (test-vectors.json `coze.chat_v3_stream_official`). */
const IDS = { conversation: '7381473525342978089', bot: '7379462189365198898', chat: '7382159487131697202' };
export const OFFICIAL = {
  deltaTexts: ['2', '0', '星期三', '。'],
  completedAnswer: '2024 年 10 月 1 日是星期三。',
  conversationId: IDS.conversation,
  chatId: IDS.chat,
  usage: { token_count: 633, output_count: 19, input_count: 614 },
};
/** Verbatim from the vector (`failed_example`). */
export const OFFICIAL_FAILED =
  'event:conversation.chat.failed\ndata:{"id":"7390342853760696354","conversation_id":"7390331532575195148","bot_id":"7374724495711502387","completed_at":1720698285,"failed_at":1720698286,"last_error":{"code":5000,"msg":"event interval error"},"status":"failed","usage":{"token_count":0,"output_count":0,"input_count":0}}\n\n';

export interface CozeCall {
  conversationId: string | null;
  body: Record<string, unknown>;
  authorization: string | undefined;
  aborted: boolean;
}

export interface CozeBehaviour {
  /** Replay the official sample instead of echoing. */
  official?: boolean;
  /** Answer with the official `conversation.chat.failed` event. */
  failed?: boolean;
  /** End the stream after the deltas, without chat.completed or done. */
  truncate?: boolean;
  /** Send headers and the first event, then nothing more. */
  hang?: boolean;
}

/** One SSE block as Coze writes it. */
export function block(event: string, data: unknown): string {
  return `event:${event}\ndata:${JSON.stringify(data)}\n\n`;
}

function chat(status: string, conversationId: string, chatId: string, extra: object = {}) {
  return {
    id: chatId,
    conversation_id: conversationId,
    bot_id: IDS.bot,
    created_at: 1718792949,
    last_error: { code: 0, msg: '' },
    status,
    ...extra,
  };
}

function message(type: string, content: string, conversationId: string, chatId: string) {
  return {
    id: '7382159494123470858',
    conversation_id: conversationId,
    bot_id: IDS.bot,
    role: 'assistant',
    type,
    content,
    content_type: 'text',
    chat_id: chatId,
  };
}

/** A whole chat stream in the official event order, for the given answer pieces. */
export function chatStream(pieces: string[], full: string, conversationId: string, chatId: string): string[] {
  const verbose = JSON.stringify({
    msg_type: 'generate_answer_finish',
    data: '',
    from_module: null,
    from_unit: null,
  });
  return [
    block('conversation.chat.created', chat('created', conversationId, chatId)),
    block('conversation.chat.in_progress', chat('in_progress', conversationId, chatId)),
    ...pieces.map((p) => block('conversation.message.delta', message('answer', p, conversationId, chatId))),
    block('conversation.message.completed', message('answer', full, conversationId, chatId)),
    block('conversation.message.completed', message('verbose', verbose, conversationId, chatId)),
    block(
      'conversation.chat.completed',
      chat('completed', conversationId, chatId, { completed_at: 1718792949, usage: OFFICIAL.usage }),
    ),
    'event:done\ndata:"[DONE]"\n\n',
  ];
}

/** The official sample, as one text. */
export const OFFICIAL_STREAM = chatStream(
  OFFICIAL.deltaTexts,
  OFFICIAL.completedAnswer,
  IDS.conversation,
  IDS.chat,
).join('');

export class FakeCoze {
  readonly calls: CozeCall[] = [];
  readonly conversations = new Set<string>();
  behaviour: CozeBehaviour = {};
  baseURL = '';
  #local: LocalServer | undefined;

  constructor(readonly token: string) {}

  async start(): Promise<this> {
    this.#local = await listenLocally((req, res) => this.#handle(req, res));
    this.baseURL = this.#local.origin;
    return this;
  }

  async close(): Promise<void> {
    await this.#local?.close();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    const url = new URL(req.url ?? '/', 'http://fake');
    const call: CozeCall = {
      conversationId: url.searchParams.get('conversation_id'),
      body,
      authorization: req.headers.authorization,
      aborted: false,
    };
    this.calls.push(call);
    res.on('close', () => {
      if (!res.writableEnded) call.aborted = true;
    });
    // Coze answers errors as HTTP 200 JSON with a non-zero code.
    if (url.pathname !== '/v3/chat') return json(res, 404, { code: 404, msg: 'not found' });
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return json(res, 200, { code: 4100, msg: 'authentication is invalid' });
    const b = { ...this.behaviour };
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (b.official) return void res.end(OFFICIAL_STREAM);
    if (b.failed) return void res.end(OFFICIAL_FAILED);
    let conversationId = call.conversationId ?? '';
    if (!conversationId) {
      conversationId = randomUUID();
      this.conversations.add(conversationId);
    }
    const messages = body.additional_messages as { content?: string }[] | undefined;
    const answer = `Coze says: ${messages?.[0]?.content ?? ''}`;
    const pieces: string[] = [];
    for (let i = 0; i < answer.length; i += 4) pieces.push(answer.slice(i, i + 4));
    const blocks = chatStream(pieces, answer, conversationId, randomUUID());
    if (b.hang) return void res.write(blocks[0]);
    res.end((b.truncate ? blocks.slice(0, 2 + pieces.length) : blocks).join(''));
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
