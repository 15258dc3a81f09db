/**
 * Webhook ingress: verified and enqueued requests per second through the hub's webhook route, for
 * WeCom-encrypted callbacks and Telegram updates, against a plain `node:http` server doing the
 * same crypto (WeCom: signature + AES envelope, with the hub's own functions; Telegram: the secret
 * header in constant time) and nothing else, in the same run. Prints one JSON line per channel.
 *
 *   npm run bench:ingress                 # 5 s per target, 32 connections
 *   BENCH_SECONDS=10 BENCH_CONCURRENCY=64 npm run bench:ingress
 *
 * The hub runs the ingress role on PostgreSQL (a throwaway database); no worker consumes, so every
 * accepted request is a job left in Redis, counted at the end and removed.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { openEnvelope, restoreBase64, signatureMatches } from '../src/channels/wecom/crypto.ts';
import { readEnv } from '../src/config/env.ts';
import { startHub } from '../src/hub.ts';
import { createLogger } from '../src/log.ts';
import { readQueueDepth } from '../src/queue/queue-metrics.ts';
import { buildWeComPost, textXml } from '../test/fakes/wecom-callback.ts';
import { deleteKeys, REDIS_URL } from '../test/helpers/hub.ts';
import { createTestDatabase } from '../test/helpers/pg.ts';
import { type LoadResult, type PreparedRequest, runLoad } from './http-load.ts';
import { emit, round } from './stats.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
/**
 * Requests prepared per target (each needs a unique id). A fast target may use them all before
 * the time is up: its rate is then measured over a shorter window, still a rate.
 */
const PREPARED = Number(process.env.BENCH_PREPARED ?? 40_000);
const PARTITIONS = 16;

const vectors = JSON.parse(
  readFileSync(new URL('../test/fixtures/channels/wecom/official-vectors.json', import.meta.url), 'utf8'),
) as { verifyUrl_official: { token: string; encodingAESKey: string; receiveid: string } };
const WECOM = {
  token: vectors.verifyUrl_official.token,
  encodingAESKey: vectors.verifyUrl_official.encodingAESKey,
  receiveId: vectors.verifyUrl_official.receiveid,
};
const TELEGRAM_SECRET = 'bench-secret-token';

/** WeCom MsgIds are 64-bit numbers: `base` keeps each run's and target's ids apart. */
function wecomRequests(base: number, path: string): PreparedRequest[] {
  return Array.from({ length: PREPARED }, (_, i) => {
    const xml = textXml(WECOM.receiveId, `user${i % 500}`, `hello ${i}`, String(base + i));
    const built = buildWeComPost(WECOM, xml);
    return {
      path: `${path}?${new URLSearchParams(built.query).toString()}`,
      body: built.rawBody.toString('utf8'),
      headers: { 'content-type': 'text/xml' },
    };
  });
}

function telegramRequests(offset: number, path: string): PreparedRequest[] {
  return Array.from({ length: PREPARED }, (_, i) => ({
    path,
    body: JSON.stringify({
      update_id: offset + i,
      message: {
        message_id: offset + i,
        date: Math.floor(Date.now() / 1000),
        chat: { id: 1000 + (i % 500), type: 'private', first_name: 'Bench' },
        from: { id: 1000 + (i % 500), is_bot: false, first_name: 'Bench' },
        text: `hello ${i}`,
      },
    }),
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET },
  }));
}

/** The baseline: node:http, the same verification, an empty 200. */
function plainServer(): Server {
  const secret = Buffer.from(TELEGRAM_SECRET);
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        if (url.pathname === '/wecom') {
          const encrypt = restoreBase64(/<Encrypt><!\[CDATA\[(.*?)\]\]><\/Encrypt>/.exec(body)?.[1] ?? '');
          const q = url.searchParams;
          if (
            !signatureMatches(
              WECOM.token,
              q.get('timestamp') ?? '',
              q.get('nonce') ?? '',
              encrypt,
              q.get('msg_signature') ?? '',
            )
          ) {
            return void res.writeHead(401).end();
          }
          openEnvelope(WECOM.encodingAESKey, encrypt, WECOM.receiveId);
          return void res.writeHead(200).end('success');
        }
        const given = Buffer.from(String(req.headers['x-telegram-bot-api-secret-token'] ?? ''));
        if (given.length !== secret.length || !timingSafeEqual(given, secret))
          return void res.writeHead(401).end();
        JSON.parse(body);
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'switchboard-bench-ingress-'));
  mkdirSync(join(root, 'config', 'workflows'), { recursive: true });
  writeFileSync(
    join(root, 'config', 'hub.yaml'),
    `channels:
  - { id: wc, type: wecom, corpId: ${WECOM.receiveId}, agentId: 1000002, token: ${WECOM.token}, encodingAESKey: ${WECOM.encodingAESKey}, secret: unused, apiBase: "http://127.0.0.1:9" }
  - { id: tg, type: telegram, token: "4242:bench", secretToken: ${TELEGRAM_SECRET}, apiRoot: "http://127.0.0.1:9" }
queue:
  partitions: ${PARTITIONS}
`,
  );
  writeFileSync(
    join(root, 'config', 'workflows', 'echo.yaml'),
    'name: echo\ndefault: true\nsteps:\n  - reply: "ok"\n',
  );
  const db = await createTestDatabase();
  const prefix = `benchin${randomBytes(4).toString('hex')}`;
  const env = readEnv({
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL,
    DATABASE_URL: db.url,
    CONFIG_DIR: join(root, 'config'),
    DATA_DIR: join(root, 'data'),
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'silent',
  });
  const hub = await startHub({ role: 'ingress', env, logger: createLogger('silent') });
  const plain = plainServer();
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  const plainOrigin = `http://127.0.0.1:${(plain.address() as { port: number }).port}`;
  const redis = new Redis(REDIS_URL);
  const run = (origin: string, requests: PreparedRequest[]) =>
    runLoad({ origin, requests, concurrency: CONCURRENCY, durationMs: SECONDS * 1000, okStatus: 200 });
  try {
    // Distinct message ids per run (the hub dedupes across runs for days) and per target.
    const base = Date.now() * 1000;
    const warm = Math.min(PREPARED, 2000);
    // Warm up both servers (JIT, connection pools), then measure each channel hub-then-plain.
    await run(hub.url!, wecomRequests(base + 9e8, '/webhooks/wecom/wc').slice(0, warm));
    await run(plainOrigin, wecomRequests(base + 8e8, '/wecom').slice(0, warm));
    const results: Record<string, { hub: LoadResult; plain: LoadResult; queued: number }> = {};
    let queuedBefore = await queuedJobs(redis, prefix);
    for (const channel of ['wecom', 'telegram'] as const) {
      const hubRequests =
        channel === 'wecom'
          ? wecomRequests(base, '/webhooks/wecom/wc')
          : telegramRequests(base % 1e9, '/webhooks/telegram/tg');
      const plainRequests =
        channel === 'wecom'
          ? wecomRequests(base + 1e8, '/wecom')
          : telegramRequests(1e9 + (base % 1e9), '/telegram');
      const hubResult = await run(hub.url!, hubRequests);
      const queuedAfter = await queuedJobs(redis, prefix);
      results[channel] = {
        hub: hubResult,
        plain: await run(plainOrigin, plainRequests),
        queued: queuedAfter - queuedBefore,
      };
      queuedBefore = queuedAfter;
    }
    for (const [channel, r] of Object.entries(results)) {
      emit({
        bench: 'ingress',
        channel,
        seconds: SECONDS,
        concurrency: CONCURRENCY,
        hubRps: round(r.hub.okPerSec),
        hubP50Ms: round(r.hub.p50Ms, 2),
        hubP99Ms: round(r.hub.p99Ms, 2),
        hubFailures: r.hub.failures,
        enqueued: r.queued,
        accepted: r.hub.ok,
        plainRps: round(r.plain.okPerSec),
        plainP99Ms: round(r.plain.p99Ms, 2),
        ratio: round(r.hub.okPerSec / r.plain.okPerSec, 3),
        shortWindow: r.hub.unused === 0 || r.plain.unused === 0,
      });
    }
  } finally {
    await hub.stop();
    await new Promise((r) => plain.close(r));
    await deleteKeys(redis, `${prefix}:*`);
    redis.disconnect();
    await db.drop();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Jobs waiting in every inbound queue: what ingress really enqueued. */
async function queuedJobs(redis: Redis, prefix: string): Promise<number> {
  const queues = Array.from({ length: PARTITIONS }, (_, p) => `inbound-${p}`);
  const rows = await readQueueDepth({ redis, prefix, queues });
  return rows.filter(([, state]) => state === 'waiting').reduce((sum, [, , n]) => sum + n, 0);
}

await main();
