/**
 * A channel type for tests of the outbound path: `send` POSTs the reply as JSON to a local fake
 * platform, which answers 200 or fails on demand and counts what it received.
 */
import { createServer, type Server } from 'node:http';
import { z } from 'zod';
import type { ChannelType } from '../../src/channels/types.ts';
import { ChannelSendError } from '../../src/errors.ts';

export const recordingChannel: ChannelType<{ id: string; type: string; url: string }> = {
  type: 'recording',
  configSchema: z.looseObject({ id: z.string(), type: z.literal('recording'), url: z.string().url() }),
  create(id, config) {
    return {
      type: 'recording',
      id,
      async send(message, ctx) {
        let res: Response;
        try {
          res = await fetch(config.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': message.idempotencyKey },
            body: JSON.stringify({ id: message.id, text: message.text, to: message.replyTo }),
            signal: ctx.signal,
          });
        } catch (err) {
          throw new ChannelSendError('fake platform unreachable', { retryable: true, cause: err });
        }
        if (res.status === 429) {
          const retryAfterSec = Number(res.headers.get('retry-after') ?? '1');
          throw new ChannelSendError('fake platform: too many requests', { retryable: true, retryAfterSec });
        }
        if (!res.ok)
          throw new ChannelSendError(`fake platform answered ${res.status}`, {
            retryable: res.status >= 500,
          });
        return { platformMessageId: (await res.json()).id };
      },
    };
  },
};

export interface FakePlatform {
  url: string;
  received: { id: string; text: string }[];
  attempts: number;
  /** 'ok' answers 200; 'fail' answers 503; a number in (0,1) fails that share of requests. */
  mode: 'ok' | 'fail' | number;
  /** Answer this many next requests with 429 and `Retry-After: 1`. */
  rateLimitNext: number;
  /** Answer 503 to the requests whose reply text this matches (whatever `mode` says). */
  failText?: RegExp;
  close(): Promise<void>;
}

export async function startFakePlatform(): Promise<FakePlatform> {
  const platform: FakePlatform = {
    url: '',
    received: [],
    attempts: 0,
    mode: 'ok',
    rateLimitNext: 0,
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      platform.attempts++;
      if (platform.rateLimitNext > 0) {
        platform.rateLimitNext--;
        res.writeHead(429, { 'retry-after': '1' }).end('{"error":"slow down"}');
        return;
      }
      const parsed = JSON.parse(body) as { id: string; text: string };
      const fail =
        platform.mode === 'fail' ||
        (typeof platform.mode === 'number' && Math.random() < platform.mode) ||
        (platform.failText?.test(parsed.text) ?? false);
      if (fail) {
        res.writeHead(503).end('{"error":"unavailable"}');
        return;
      }
      platform.received.push(parsed);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ id: `p-${platform.received.length}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  platform.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/send`;
  platform.close = () => new Promise((r) => server.close(() => r()));
  return platform;
}
