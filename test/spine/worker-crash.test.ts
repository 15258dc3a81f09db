/**
 * Worker processes die and stop; messages do not get lost or doubled. The ingress runs in the
 * test process; workers are real `switchboard start --role worker` processes on PostgreSQL.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, startTestHub, type TestHub } from '../helpers/hub.ts';
import { type HubProcess, spawnHubProcess } from '../helpers/processes.ts';
import { openSse } from '../helpers/sse.ts';

const SLOW = `name: slow
default: true
steps:
  - wait: 2500ms
  - reply: "done: {{ message.text }}"
`;

describe('worker processes', () => {
  let t: TestHub;
  const children: HubProcess[] = [];
  beforeEach(async () => {
    t = await startTestHub({ role: 'ingress', database: 'pg', workflows: { 'slow.yaml': SLOW } });
  });
  afterEach(async () => {
    for (const c of children.splice(0)) c.child.kill('SIGKILL');
    await t?.stop();
  });

  const liveWorkers = () => t.redis.zcard(`${t.prefix}:workers`);
  const activeJobs = async () => {
    const counts = await Promise.all(t.hub.queues.all().map((q) => q.getActiveCount()));
    return counts.reduce((a, b) => a + b, 0);
  };

  it('a worker killed mid-job: the job is picked up again and answered once', async () => {
    const first = spawnHubProcess(t, 'worker');
    children.push(first);
    await eventually(async () => (await liveWorkers()) === 1, 'the first worker to join', 20_000);
    const { body } = await t.post('/v1/chat/create', {});
    const sse = await openSse(`${t.url}/v1/chat/events?session_id=${body.session_id}`);
    try {
      expect((await t.post('/v1/chat/send', { session_id: body.session_id, text: 'survive' })).status).toBe(
        202,
      );
      await eventually(
        async () => (await activeJobs()) === 1,
        'the job to be active in the first worker',
        20_000,
      );
      first.child.kill('SIGKILL');
      await first.exited;

      const second = spawnHubProcess(t, 'worker');
      children.push(second);
      const [reply] = await sse.waitFor(1, (e) => e.event === 'message', 30_000);
      expect(reply!.data.text).toBe('done: survive');
      await new Promise((r) => setTimeout(r, 1500));
      expect(sse.events.filter((e) => e.event === 'message')).toHaveLength(1);
      const replies = await t.hub.store.listReplies(reply!.data.in_reply_to);
      expect(replies).toHaveLength(1);
    } finally {
      sse.close();
    }
  });

  it('SIGTERM drains: the in-flight job finishes before the worker exits', async () => {
    const worker = spawnHubProcess(t, 'worker');
    children.push(worker);
    await eventually(async () => (await liveWorkers()) === 1, 'the worker to join', 20_000);
    const { body } = await t.post('/v1/chat/create', {});
    const sse = await openSse(`${t.url}/v1/chat/events?session_id=${body.session_id}`);
    try {
      await t.post('/v1/chat/send', { session_id: body.session_id, text: 'drain me' });
      await eventually(async () => (await activeJobs()) === 1, 'the job to be active', 20_000);
      worker.child.kill('SIGTERM');
      const code = await worker.exited;
      expect(code, worker.output()).toBe(0);
      const [reply] = await sse.waitFor(1, (e) => e.event === 'message', 5_000);
      expect(reply!.data.text).toBe('done: drain me');
      expect(await activeJobs()).toBe(0);
      expect(await liveWorkers()).toBe(0);
    } finally {
      sse.close();
    }
  });
});
