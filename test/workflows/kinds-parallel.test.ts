/**
 * `parallel`: branches really run at the same time (the step takes about as long as its slowest
 * branch, not the sum), each with its own timeout and fallback, and a failing branch does not
 * sink the others. Sources are real: a fake Dify and a fake JSON API on 127.0.0.1, the order
 * query on a throwaway PostgreSQL database (pg_sleep runs on the server), the repo's sample KB.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KnowledgeBase } from '../../src/ai/kb/index.ts';
import { seedDemoOrders } from '../../src/ai/orders/demo-seed.ts';
import { OrderLookup } from '../../src/ai/orders/lookup.ts';
import type { SourcesConfig } from '../../src/ai/sources-config.ts';
import { formatConfigIssue } from '../../src/errors.ts';
import { BreakerRegistry } from '../../src/resilience/breakers.ts';
import { Resilience } from '../../src/resilience/guard.ts';
import type { Executor } from '../../src/store/executor.ts';
import { createPgExecutor } from '../../src/store/pg-executor.ts';
import { loadWorkflowFiles } from '../../src/workflows/index.ts';
import { aiKinds, memoryKb, REPO_CONFIG, runWith, sourcesOf, testRuntime } from '../ai/helpers.ts';
import { FakeDify } from '../fakes/dify-server.ts';
import { FakeHttpApi } from '../fakes/http-api.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';
import { silent, tempDir } from './helpers.ts';

describe('parallel', () => {
  let dify: FakeDify;
  let api: FakeHttpApi;
  let database: TestDatabase;
  let db: Executor;
  let kb: KnowledgeBase;
  let sources: SourcesConfig;

  beforeAll(async () => {
    dify = await new FakeDify(['app-key']).start();
    api = await new FakeHttpApi().route('GET /slow', { json: { value: 'from api' }, delayMs: 300 }).start();
    database = await createTestDatabase();
    db = createPgExecutor({ url: database.url });
    await seedDemoOrders(db, join(REPO_CONFIG, 'orders', 'demo-orders.yaml'));
    kb = await memoryKb();
    sources = sourcesOf(`
dify:
  baseURL: ${dify.baseURL}
  apps:
    guide: { apiKey: app-key, inputs: { query: "{{ message.text }}" } }
orders:
  queries:
    slow_lookup:
      sql: SELECT order_no, pg_sleep(0.3)::text AS slept FROM demo_orders WHERE order_no = upper($1)
      params: [{ from: text, regex: "(SB\\\\d{8})" }]
`);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
    await dify?.close();
    await api?.close();
  });

  const runtime = () => {
    const breakers = new BreakerRegistry({ consecutiveFailures: 5, halfOpenAfter: 30_000 }, silent);
    const orders = new OrderLookup(db, sources.orders!, new Resilience(breakers, silent));
    return testRuntime(sources, { kb, orders, resilience: new Resilience(breakers, silent) }).runtime;
  };

  const WORKFLOW = (difyExtra = '') => `
name: p
default: true
steps:
  - id: recall
    parallel:
      - { id: dify, dify: guide, timeout: 2s${difyExtra} }
      - { id: api, http: { url: "${api.url}/slow", select: value }, timeout: 2s }
      - { id: orders, orders: slow_lookup, timeout: 2s }
      - { id: kb, kb: after-sales }
  - reply: "{{ steps.dify.answer }}|{{ steps.api.value }}|{{ steps.orders.row.order_no }}|{{ steps.kb.top.id }}"
`;

  it('runs branches concurrently: the step takes about the slowest branch, not the sum', async () => {
    dify.behaviour = { delayMs: 300 };
    const r = await runWith(runtime(), aiKinds(sources), WORKFLOW(), '我想退货 SB20240002');
    expect(r.status).toBe('ok');
    expect(r.replies[0]?.text).toBe('Dify says: 我想退货 SB20240002|from api|SB20240002|return-request');
    const recall = r.steps[0]!;
    // Three branches of ~300 ms each: in sequence the step would take at least their sum. Compared
    // with the branches' own measured times, so a loaded machine slows both sides alike.
    const slowBranches = recall.children!.slice(0, 3).reduce((sum, c) => sum + c.ms, 0);
    expect(recall.ms).toBeGreaterThanOrEqual(290);
    expect(recall.ms).toBeLessThan(slowBranches * 0.75);
    expect(recall.children?.map((c) => [c.id, c.status])).toEqual([
      ['dify', 'ok'],
      ['api', 'ok'],
      ['orders', 'ok'],
      ['kb', 'ok'],
    ]);
    for (const c of recall.children!.slice(0, 3)) expect(c.ms).toBeGreaterThanOrEqual(290);
    expect(recall.output).toMatchObject({
      dify: { status: 'ok' },
      api: { status: 'ok' },
      orders: { status: 'ok' },
      kb: { status: 'ok' },
    });
  });

  it('a branch that times out ends at its own timeout, and the others still deliver', async () => {
    dify.behaviour = { delayMs: 2000 };
    const yaml = WORKFLOW().replace(
      '{ id: dify, dify: guide, timeout: 2s }',
      '{ id: dify, dify: guide, timeout: 150ms }',
    );
    const started = performance.now();
    const r = await runWith(
      runtime(),
      aiKinds(sources),
      yaml.replace('{{ steps.dify.answer }}', "{{ steps.dify.answer | default: '-' }}"),
      'SB20240001',
    );
    expect(performance.now() - started).toBeLessThan(1800); // the branch is cut long before Dify's 2 s answer
    expect(r.status).toBe('ok');
    expect(r.replies[0]?.text).toMatch(/^-\|from api\|SB20240001\|/);
    const out = r.steps[0]!.output as Record<string, { status: string; ms: number; error?: string }>;
    expect(out.dify).toMatchObject({ status: 'timeout', error: 'timed out after 150ms' });
    expect(out.dify!.ms).toBeLessThan(1000); // cut at its 150 ms timeout, far from Dify's 2 s
    expect(out.orders?.status).toBe('ok');
    expect(dify.calls.at(-1)?.aborted).toBe(true);
  });

  it('a failed branch runs its fallback; without one it is reported and the run goes on', async () => {
    dify.behaviour = { status: 500 };
    const withFallback = await runWith(
      runtime(),
      aiKinds(sources),
      WORKFLOW(', fallback: { set: { dify_down: true } }'),
      'SB20240003',
    );
    const rec = withFallback.steps[0]!.children![0]!;
    expect(rec).toMatchObject({ id: 'dify', status: 'fallback' });
    expect(rec.error).toMatch(
      /^dify:guide: answered HTTP 500: internal_server_error: The server is on fire\.$/,
    );
    expect(withFallback.vars.dify_down).toBe(true);

    const without = await runWith(runtime(), aiKinds(sources), WORKFLOW(), 'SB20240003');
    expect(without.status).toBe('ok');
    expect(without.steps[0]!.output).toMatchObject({
      dify: { status: 'failed', error: expect.stringContaining('HTTP 500') },
    });
    expect(without.replies[0]?.text).toMatch(/^\|from api\|SB20240003\|/);
  });

  it('load errors: branches need ids, and parallel is a list', async () => {
    const t = tempDir({
      'a.yaml': 'steps:\n  - id: recall\n    parallel:\n      - kb: after-sales\n      - { id: ok, kb: x }\n',
      'b.yaml': 'steps:\n  - parallel: { kb: after-sales }\n',
    });
    try {
      const { issues } = await loadWorkflowFiles([t.path('a.yaml'), t.path('b.yaml')], aiKinds());
      expect(issues.map(formatConfigIssue)).toEqual([
        `${t.path('a.yaml')}:4:9 give each parallel branch an id: its output is steps.<id>`,
        `${t.path('b.yaml')}:2:15 parallel is a list of steps (the branches)`,
      ]);
    } finally {
      t.cleanup();
    }
  });
});
