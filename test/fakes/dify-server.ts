/**
 * A local fake of Dify's app API on 127.0.0.1, speaking the documented wire protocol
 * (shared/protocols test-vectors.json, `dify` entries): `POST /v1/workflows/run` and
 * `POST /v1/chat-messages`, Bearer app keys, blocking JSON and streaming SSE (`data: {json}`
 * blocks, `event: ping` keep-alives, no `event:` line on data). Chat conversations are remembered;
 * an unknown `conversation_id` answers 404 like Dify. Behaviour can be scripted: a delay, an
 * error status, a body that is not JSON, a body of the wrong shape.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type LocalServer, listenLocally } from './local-server.ts';

/** A request body as the hub sends it (fields loosely typed: the fake checks them itself). */
export interface DifyBody {
  inputs?: Record<string, unknown>;
  query?: string;
  user?: string;
  response_mode?: string;
  conversation_id?: string;
  [key: string]: unknown;
}

export interface DifyCall {
  path: string;
  body: DifyBody;
  authorization: string | undefined;
  at: number;
  /** Set when the client went away before the answer was sent (a timeout on its side). */
  aborted: boolean;
}

export interface DifyBehaviour {
  /** Wait this long before answering. */
  delayMs?: number;
  /** Answer with this HTTP status and a Dify error body. */
  status?: number;
  /** Answer 200 with an HTML page instead of JSON. */
  garbage?: boolean;
  /** Answer 200 with JSON that lacks what Dify documents. */
  wrongShape?: boolean;
}

export class FakeDify {
  readonly calls: DifyCall[] = [];
  behaviour: DifyBehaviour = {};
  /** Text the apps answer; `{query}` is replaced by the query / inputs.query. */
  answer = 'Dify says: {query}';
  baseURL = '';
  readonly conversations = new Set<string>();
  #local: LocalServer | undefined;

  constructor(readonly apiKeys: readonly string[]) {}

  async start(): Promise<this> {
    this.#local = await listenLocally((req, res) => this.#handle(req, res));
    this.baseURL = `${this.#local.origin}/v1`;
    return this;
  }

  async close(): Promise<void> {
    await this.#local?.close();
  }

  callsTo(path: string): DifyCall[] {
    return this.calls.filter((c) => c.path === path);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as DifyBody;
    const path = (req.url ?? '').split('?')[0] ?? '';
    const call: DifyCall = {
      path,
      body,
      authorization: req.headers.authorization,
      at: performance.now(),
      aborted: false,
    };
    this.calls.push(call);
    res.on('close', () => {
      if (!res.writableEnded) call.aborted = true;
    });
    const b = { ...this.behaviour };
    if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
    if (call.aborted || res.destroyed) return;
    const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!this.apiKeys.includes(key))
      return json(res, 401, { code: 'unauthorized', message: 'Access token is invalid', status: 401 });
    if (b.status)
      return json(res, b.status, {
        code: 'internal_server_error',
        message: 'The server is on fire.',
        status: b.status,
      });
    if (b.garbage)
      return void res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<html><body>502 Bad Gateway</body></html>');
    if (b.wrongShape) return json(res, 200, { result: 'ok' });
    if (path === '/v1/workflows/run') return this.#workflow(res, body);
    if (path === '/v1/chat-messages') return this.#chat(res, body);
    json(res, 404, { code: 'not_found', message: `no route ${path}`, status: 404 });
  }

  #text(query: unknown): string {
    return this.answer.replace('{query}', String(query ?? ''));
  }

  #workflow(res: ServerResponse, body: DifyBody) {
    if (typeof body.user !== 'string' || !body.inputs)
      return json(res, 400, { code: 'invalid_param', message: 'inputs and user are required', status: 400 });
    const text = this.#text(body.inputs.query);
    const runId = randomUUID();
    const data = {
      id: runId,
      workflow_id: 'wf-1',
      status: 'succeeded',
      outputs: { text },
      error: null,
      elapsed_time: 0.1,
      total_tokens: 10,
      total_steps: 3,
      created_at: 1,
      finished_at: 2,
    };
    if (body.response_mode !== 'streaming')
      return json(res, 200, { workflow_run_id: runId, task_id: randomUUID(), data });
    sse(res, [
      'event: ping\n\n',
      event({
        event: 'workflow_started',
        task_id: 't',
        workflow_run_id: runId,
        data: { id: runId, workflow_id: 'wf-1', created_at: 1 },
      }),
      ...pieces(text).map((p) =>
        event({
          event: 'text_chunk',
          task_id: 't',
          workflow_run_id: runId,
          data: { text: p, from_variable_selector: ['llm', 'text'] },
        }),
      ),
      event({
        event: 'workflow_finished',
        task_id: 't',
        workflow_run_id: runId,
        data: { ...data, total_steps: '3' },
      }),
    ]);
  }

  #chat(res: ServerResponse, body: DifyBody) {
    if (typeof body.query !== 'string' || typeof body.user !== 'string')
      return json(res, 400, { code: 'invalid_param', message: 'query and user are required', status: 400 });
    let conversationId = String(body.conversation_id ?? '');
    if (conversationId && !this.conversations.has(conversationId))
      return json(res, 404, { code: 'not_found', message: 'Conversation Not Exists.', status: 404 });
    if (!conversationId) {
      conversationId = randomUUID();
      this.conversations.add(conversationId);
    }
    const answer = this.#text(body.query);
    const messageId = randomUUID();
    if (body.response_mode !== 'streaming')
      return json(res, 200, {
        event: 'message',
        task_id: randomUUID(),
        id: messageId,
        message_id: messageId,
        conversation_id: conversationId,
        mode: 'chat',
        answer,
        metadata: { usage: { total_tokens: 12 } },
        created_at: 1705407629,
      });
    sse(res, [
      'event: ping\n\n',
      ...pieces(answer).map((p) =>
        event({
          event: 'message',
          message_id: messageId,
          conversation_id: conversationId,
          answer: p,
          created_at: 1,
        }),
      ),
      event({
        event: 'message_end',
        id: messageId,
        conversation_id: conversationId,
        metadata: { usage: { total_tokens: 12 } },
      }),
    ]);
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function event(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

function sse(res: ServerResponse, blocks: string[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const b of blocks) res.write(b);
  res.end();
}

/** Split text in a few pieces, as a model streaming it would. */
function pieces(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 4) out.push(text.slice(i, i + 4));
  return out;
}
