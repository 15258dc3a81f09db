/**
 * TMC end to end through a real hub: a RefundCreate pushed by the fake TMC server becomes one
 * `event` job (confirmed to TMC once queued), the workflow's reply reaches the buyer through the
 * fake bridge, and TMC pushing the same message again yields no second job and no second reply.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeTmcServer } from '../../fakes/taobao-tmc-server.ts';
import { FakeBridge } from '../../fakes/taobao-top.ts';
import { eventually, FAST_QUEUE_YAML, startTestHub, type TestHub } from '../../helpers/hub.ts';
import { APP_KEY, APP_SECRET, BRIDGE_SECRET, tmcEvents } from './helpers.ts';

/** Hub tests share the machine with other suites: be patient before calling it a failure. */
const PATIENCE = 25_000;
let t: TestHub;
const bridge = new FakeBridge('qn-bridge', BRIDGE_SECRET);
const tmc = new FakeTmcServer({ [APP_KEY]: APP_SECRET });

beforeAll(async () => {
  await bridge.start();
  await tmc.start();
  t = await startTestHub({
    hubYaml: `channels:
  - { id: web, type: web }
  - id: tb
    type: taobao
    appKey: "${APP_KEY}"
    appSecret: ${APP_SECRET}
    tmc:
      url: ${tmc.url}
      topics: [taobao_refund_RefundCreate]
    bridge:
      appKey: qn-bridge
      secret: ${BRIDGE_SECRET}
      callbackUrl: ${bridge.callbackUrl}
${FAST_QUEUE_YAML}`,
    workflows: {
      'refund.yaml': `name: refund-notice
default: true
steps:
  - reply: "已收到您的退款申请：{{ message.text }}"
`,
    },
  });
});
afterAll(async () => {
  await t?.stop();
  await bridge.close();
  await tmc.close();
});

async function taobaoJobs() {
  const jobs = await Promise.all(
    Array.from({ length: t.hub.queues.partitions }, (_, p) =>
      t.hub.queues.inboundQueue(p).getJobs(['wait', 'active', 'delayed', 'completed', 'failed']),
    ),
  );
  return jobs.flat().filter((j) => j.data.message.channel === 'taobao');
}

it('a refund event becomes one event job, is confirmed, and the reply goes to the buyer through the bridge', async () => {
  await eventually(() => tmc.sessions() === 1, 'the hub to connect to TMC', PATIENCE);
  const id = tmc.publish('taobao_refund_RefundCreate', tmcEvents.refund_create!);
  await eventually(() => tmc.confirms.some((c) => c.id === String(id)), 'the confirm', PATIENCE);
  const [job] = await eventually(
    async () => {
      const jobs = await taobaoJobs();
      return jobs.length > 0 ? jobs : undefined;
    },
    'the job',
    PATIENCE,
  );
  expect(job!.data.message).toMatchObject({
    kind: 'event',
    event: 'taobao_refund_RefundCreate',
    dedupeKey: `taobao:tb:tmc-${id}`,
  });
  await eventually(() => bridge.accepted.length > 0, 'the reply at the bridge', PATIENCE);
  expect(bridge.accepted[0]?.body).toMatchObject({
    type: 'reply',
    buyer_open_uid: 'AAHk5d-EAAeGwJedwSHOtHmG',
    text: expect.stringContaining('已收到您的退款申请：退款申请 refund requested · tid 3982135211234567890'),
  });

  tmc.pushAgain(id);
  await eventually(
    () => tmc.confirms.filter((c) => c.id === String(id)).length === 2,
    'the second confirm',
    PATIENCE,
  );
  await new Promise((r) => setTimeout(r, 700));
  expect(await taobaoJobs()).toHaveLength(1);
  expect(bridge.accepted).toHaveLength(1);
  expect(t.hub.adapters.get('taobao', 'tb')?.health?.()).toEqual({ ok: true, detail: 'connected' });
}, 90_000);
