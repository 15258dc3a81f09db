/**
 * A small JSON API on 127.0.0.1 for the `http` step: routes answer scripted JSON (or raw text),
 * after an optional delay; every request is recorded, including whether the client gave up.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type LocalServer, listenLocally } from './local-server.ts';

export interface HttpRoute {
  status?: number;
  /** JSON answer (or a function of the request body). */
  json?: unknown | ((body: unknown, req: IncomingMessage) => unknown);
  /** Raw answer with this content type, instead of JSON. */
  raw?: { type: string; text: string };
  delayMs?: number;
}

export interface HttpCall {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
  aborted: boolean;
}

export class FakeHttpApi {
  readonly calls: HttpCall[] = [];
  readonly routes = new Map<string, HttpRoute>();
  url = '';
  #local: LocalServer | undefined;

  /** `route('GET /orders/1', { json: {...} })`. */
  route(key: string, route: HttpRoute): this {
    this.routes.set(key, route);
    return this;
  }

  async start(): Promise<this> {
    this.#local = await listenLocally((req, res) => this.#handle(req, res));
    this.url = this.#local.origin;
    return this;
  }

  async close(): Promise<void> {
    await this.#local?.close();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '/';
    const call: HttpCall = {
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      body: text ? JSON.parse(text) : undefined,
      aborted: false,
    };
    this.calls.push(call);
    res.on('close', () => {
      if (!res.writableEnded) call.aborted = true;
    });
    const route = this.routes.get(`${call.method} ${path.split('?')[0]}`);
    if (!route)
      return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    if (route.delayMs) await new Promise((r) => setTimeout(r, route.delayMs));
    if (res.destroyed) return;
    if (route.raw)
      return void res.writeHead(route.status ?? 200, { 'content-type': route.raw.type }).end(route.raw.text);
    const body = typeof route.json === 'function' ? route.json(call.body, req) : route.json;
    res
      .writeHead(route.status ?? 200, { 'content-type': 'application/json' })
      .end(JSON.stringify(body ?? null));
  }
}
