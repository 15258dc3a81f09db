/**
 * A tiny HTTP file server on 127.0.0.1 standing in for a CDN: fixed bodies, scripted statuses, and
 * an endless stream to prove a download stops at the size limit. Counts hits per path and records
 * whether the client hung up before the body was complete.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real 1×1 PNG (67 bytes). */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

export type FileRoute =
  | { body: Buffer; type?: string; status?: number }
  /** Writes `chunk` again and again (no Content-Length, unless `declaredLength`) up to `maxBytes`. */
  | { stream: { chunk: Buffer; maxBytes: number; declaredLength?: number }; type?: string };

export interface ServedFile {
  hits: number;
  bytesWritten: number;
  /** The client closed the connection before the server finished the body. */
  abortedByClient: boolean;
}

export class FileServer {
  readonly routes = new Map<string, FileRoute>();
  readonly served = new Map<string, ServedFile>();
  url = '';
  #server: Server | undefined;

  route(path: string, route: FileRoute): this {
    this.routes.set(path, route);
    return this;
  }

  stats(path: string): ServedFile {
    return this.served.get(path) ?? { hits: 0, bytesWritten: 0, abortedByClient: false };
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const route = this.routes.get(path);
      if (!route) return void res.writeHead(404).end('not found');
      const stats = this.stats(path);
      stats.hits++;
      this.served.set(path, stats);
      res.on('close', () => {
        if (!res.writableFinished) stats.abortedByClient = true;
      });
      if ('body' in route) {
        stats.bytesWritten += route.body.length;
        res.writeHead(route.status ?? 200, route.type ? { 'content-type': route.type } : {});
        return void res.end(route.body);
      }
      void streamUntilClosed(res, route, stats);
    });
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }
}

async function streamUntilClosed(
  res: ServerResponse,
  route: Extract<FileRoute, { stream: unknown }>,
  stats: ServedFile,
): Promise<void> {
  const { chunk, maxBytes, declaredLength } = route.stream;
  const headers: Record<string, string | number> = route.type ? { 'content-type': route.type } : {};
  if (declaredLength !== undefined) headers['content-length'] = declaredLength;
  res.writeHead(200, headers);
  while (stats.bytesWritten < maxBytes && !res.destroyed) {
    stats.bytesWritten += chunk.length;
    // Respect backpressure so `bytesWritten` tracks what the client actually pulled.
    if (!res.write(chunk)) await new Promise((r) => res.once('drain', r).once('close', r));
  }
  if (!res.destroyed) res.end();
}
