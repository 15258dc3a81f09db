/**
 * Redis is the hub's queue: when it is unreachable, ingress answers 503 (the platform retries)
 * and accepts nothing half-way; when it is back, the hub resumes by itself. A private
 * redis-server on a spare port plays the outage, so the machine's Redis is untouched.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestHub, type TestHub } from '../helpers/hub.ts';
import { ECHO_WORKFLOW } from '../helpers/workflows.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

function startRedis(port: number): ChildProcess {
  return spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
}

describe('Redis outage', () => {
  let port: number;
  let redis: ChildProcess;
  let t: TestHub;

  beforeAll(async () => {
    port = await freePort();
    redis = startRedis(port);
    const url = `redis://127.0.0.1:${port}`;
    await eventually(async () => {
      try {
        const { Redis } = await import('ioredis');
        const probe = new Redis(url, {
          lazyConnect: true,
          retryStrategy: () => null,
          maxRetriesPerRequest: 0,
        });
        probe.on('error', () => {});
        await probe.connect();
        probe.disconnect();
        return true;
      } catch {
        return false;
      }
    }, 'private redis-server');
    t = await startTestHub({ workflows: { 'echo.yaml': ECHO_WORKFLOW }, env: { REDIS_URL: url } });
  });
  afterAll(async () => {
    await t?.stop().catch(() => {});
    redis?.kill('SIGKILL');
  });

  it('answers 503 while Redis is down, then recovers without a restart', async () => {
    const { body } = await t.post('/v1/chat/create', {});
    const ok = await t.post('/v1/chat/send', { session_id: body.session_id, text: 'before', wait: true });
    expect(ok.body.replies[0].text).toBe('echo: before');

    redis.kill('SIGKILL');
    await new Promise((r) => redis.once('exit', r));
    const started = Date.now();
    const down = await t.post('/v1/chat/send', {
      session_id: body.session_id,
      text: 'during',
      client_msg_id: 'd1',
    });
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(3000);

    redis = startRedis(port);
    // The platform retries the same message: once Redis is back it is accepted and answered.
    const after = await eventually(
      async () => {
        const res = await t.post('/v1/chat/send', {
          session_id: body.session_id,
          text: 'during',
          client_msg_id: 'd1',
          wait: true,
        });
        return res.status === 200 ? res : undefined;
      },
      'the hub to accept messages again',
      20_000,
      250,
    );
    expect(after.body.duplicate).toBe(false);
    expect(after.body.replies.map((r: { text: string }) => r.text)).toEqual(['echo: during']);
  });
});
