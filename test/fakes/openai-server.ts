/**
 * A local fake of an OpenAI-compatible API on 127.0.0.1 (what DeepSeek, Qwen, Ollama and vLLM
 * expose): `POST /v1/chat/completions` with blocking JSON or SSE streaming (`data: {chunk}` …
 * `data: [DONE]`), and `POST /v1/embeddings` with deterministic bag-of-words vectors. Requests are
 * recorded; the reply, a per-chunk delay and failures (status, garbage, empty answer) are scripted.
 *
 * @see https://platform.openai.com/docs/api-reference/chat/create
 * @see https://platform.openai.com/docs/api-reference/embeddings/create
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type LocalServer, listenLocally } from './local-server.ts';

export interface ChatCall {
  body: {
    model: string;
    messages: { role: string; content: string }[];
    stream?: boolean;
    [k: string]: unknown;
  };
  at: number;
}

export interface OpenAIBehaviour {
  status?: number;
  garbage?: boolean;
  /** Answer with an empty message. */
  empty?: boolean;
  delayMs?: number;
  /** Pause between streamed chunks. */
  chunkDelayMs?: number;
}

export class FakeOpenAI {
  readonly chatCalls: ChatCall[] = [];
  readonly embeddingCalls: { input: string[]; model: string }[] = [];
  behaviour: OpenAIBehaviour = {};
  embeddingsBehaviour: OpenAIBehaviour = {};
  /** The answer, or a function of the request. */
  reply: string | ((call: ChatCall) => string) = 'Hello from the fake model.';
  baseURL = '';
  #local: LocalServer | undefined;

  async start(): Promise<this> {
    this.#local = await listenLocally((req, res) => this.#handle(req, res));
    this.baseURL = `${this.#local.origin}/v1`;
    return this;
  }

  async close(): Promise<void> {
    await this.#local?.close();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    const path = (req.url ?? '').split('?')[0];
    if (path === '/v1/embeddings') return this.#embeddings(res, body);
    if (path !== '/v1/chat/completions') return void res.writeHead(404).end();
    const call: ChatCall = { body, at: performance.now() };
    this.chatCalls.push(call);
    const b = { ...this.behaviour };
    if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
    if (res.destroyed) return;
    if (b.status)
      return json(res, b.status, {
        error: { message: 'The model is overloaded.', type: 'server_error', code: null },
      });
    if (b.garbage)
      return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>gateway error</html>');
    const text = b.empty ? '' : typeof this.reply === 'function' ? this.reply(call) : this.reply;
    const base = { id: 'chatcmpl-1', created: 1_700_000_000, model: body.model };
    if (!body.stream) {
      return json(res, 200, {
        ...base,
        object: 'chat.completion',
        choices: [
          { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop', logprobs: null },
        ],
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })}\n\n`;
    res.write(chunk({ role: 'assistant', content: '' }, null));
    for (const piece of splitWords(text)) {
      if (b.chunkDelayMs) await new Promise((r) => setTimeout(r, b.chunkDelayMs));
      if (res.destroyed) return;
      res.write(chunk({ content: piece }, null));
    }
    res.write(chunk({}, 'stop'));
    res.end('data: [DONE]\n\n');
  }

  async #embeddings(res: ServerResponse, body: { input: string | string[]; model: string }): Promise<void> {
    const input = Array.isArray(body.input) ? body.input : [body.input];
    this.embeddingCalls.push({ input, model: body.model });
    const b = { ...this.embeddingsBehaviour };
    if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
    if (res.destroyed) return;
    if (b.status) return json(res, b.status, { error: { message: 'embeddings down', type: 'server_error' } });
    json(res, 200, {
      object: 'list',
      data: input.map((text, index) => ({ object: 'embedding', index, embedding: embed(text) })),
      model: body.model,
      usage: { prompt_tokens: 1, total_tokens: 1 },
    });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Words with their following space, Han characters one by one: how models stream. */
function splitWords(text: string): string[] {
  return text.match(/[\u4e00-\u9fff]|[^\s\u4e00-\u9fff]+\s*|\s+/g) ?? [];
}

/** A deterministic 64-dimension bag-of-words vector (hashed tokens), normalised. */
export function embed(text: string): number[] {
  const v = new Array<number>(64).fill(0);
  for (const token of text.toLowerCase().match(/[\u4e00-\u9fff]|[a-z0-9]+/g) ?? []) {
    const h = createHash('md5').update(token).digest();
    v[h[0]! % 64]! += 1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}
