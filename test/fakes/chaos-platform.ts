/**
 * A fake messaging platform for chaos tests and benchmarks: it receives the hub's replies (the
 * `loopback` channel POSTs them here), fails a chosen share of sends on demand (seeded, so a run
 * is reproducible), and counts what arrived.
 *
 * Like a platform that honours client message ids, a reply whose idempotency key it has already
 * accepted is acknowledged but not delivered again; such repeats are counted as `resent` (the
 * at-least-once window of a crash between a send and its record), never as a second reply.
 * A second *distinct* reply to the same inbound message is a duplicate.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface ReceivedReply {
  replyId: string;
  idempotencyKey: string;
  inReplyTo: string | null;
  chatId: string | null;
  text: string;
  /** performance.now() at arrival. */
  at: number;
}

export interface ChaosPlatform {
  /** Where the loopback channel sends replies. */
  url: string;
  /** Accepted replies in arrival order (first receipt of each idempotency key). */
  received: ReceivedReply[];
  /** Send attempts seen, failed ones included. */
  attempts: number;
  /** Sends answered 503 on purpose. */
  failed: number;
  /** Repeats of an idempotency key already accepted. */
  resent: number;
  /** Share of sends to fail with 503, from now on (0 = none, 1 = all). */
  setFailureRate(rate: number): void;
  /** Replies accepted for the inbound message of that platform message id's hub id. */
  repliesTo(inboundId: string): ReceivedReply[];
  close(): Promise<void>;
}

export async function startChaosPlatform(opts: { seed?: number } = {}): Promise<ChaosPlatform> {
  const random = mulberry32(opts.seed ?? 7);
  const byKey = new Map<string, ReceivedReply>();
  const byInbound = new Map<string, ReceivedReply[]>();
  let failureRate = 0;
  const platform: ChaosPlatform = {
    url: '',
    received: [],
    attempts: 0,
    failed: 0,
    resent: 0,
    setFailureRate: (rate) => {
      failureRate = rate;
    },
    repliesTo: (inboundId) => byInbound.get(inboundId) ?? [],
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    void readBody(req).then((body) => handle(body, res));
  });
  const handle = (body: string, res: ServerResponse) => {
    platform.attempts++;
    if (failureRate > 0 && random() < failureRate) {
      platform.failed++;
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"temporarily unavailable"}');
      return;
    }
    let reply: ReceivedReply;
    try {
      const json = JSON.parse(body) as Record<string, unknown>;
      reply = {
        replyId: String(json.reply_id),
        idempotencyKey: String(json.idempotency_key),
        inReplyTo: typeof json.in_reply_to === 'string' ? json.in_reply_to : null,
        chatId: typeof json.chat_id === 'string' ? json.chat_id : null,
        text: String(json.text ?? ''),
        at: performance.now(),
      };
    } catch {
      res.writeHead(400).end('{"error":"bad json"}');
      return;
    }
    if (byKey.has(reply.idempotencyKey)) {
      platform.resent++;
    } else {
      byKey.set(reply.idempotencyKey, reply);
      platform.received.push(reply);
      if (reply.inReplyTo) {
        const list = byInbound.get(reply.inReplyTo) ?? [];
        list.push(reply);
        byInbound.set(reply.inReplyTo, list);
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  };
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  platform.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/replies`;
  platform.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return platform;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** Small seeded PRNG: the same seed fails the same sends, run after run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
