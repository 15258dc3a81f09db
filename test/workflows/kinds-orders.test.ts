/**
 * `orders`: named, parameterized SQL on a real PostgreSQL. Message text and sender ids are bound
 * parameters only, so injection attempts find nothing and change nothing; queries run read-only;
 * a missing required value skips the query; config mistakes are file:line:col errors.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoOrders } from '../../src/ai/orders/demo-seed.ts';
import { OrderLookup } from '../../src/ai/orders/lookup.ts';
import type { SourcesConfig } from '../../src/ai/sources-config.ts';
import { formatConfigIssue } from '../../src/errors.ts';
import { BreakerRegistry } from '../../src/resilience/breakers.ts';
import { Resilience } from '../../src/resilience/guard.ts';
import type { Executor } from '../../src/store/executor.ts';
import { createPgExecutor } from '../../src/store/pg-executor.ts';
import { loadWorkflowFiles } from '../../src/workflows/index.ts';
import { aiKinds, REPO_CONFIG, runWith, sourceIssues, sourcesOf, testRuntime } from '../ai/helpers.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';
import { silent, tempDir } from './helpers.ts';

const SEED = join(REPO_CONFIG, 'orders', 'demo-orders.yaml');

const SOURCES = `
orders:
  timeout: 1s
  queries:
    lookup:
      sql: |-
        SELECT order_no, customer_id FROM demo_orders
        WHERE ($1::text IS NOT NULL AND order_no = upper($1)) OR ($1::text IS NULL AND customer_id = $2)
        ORDER BY placed_at DESC LIMIT 3
      params:
        - { from: text, regex: "\\\\b(SB\\\\d{8})\\\\b", flags: i, name: order number }
        - sender
    by_text:
      sql: SELECT order_no FROM demo_orders WHERE order_no = $1 OR customer_id = $1
      params: [text]
    by_number_required:
      sql: SELECT * FROM no_such_table WHERE order_no = $1
      params: [{ from: text, regex: "SB\\\\d{8}", required: true, name: order number }]
    sneaky:
      sql: DELETE FROM demo_orders WHERE order_no = $1 RETURNING order_no
      params: [text]
`;

describe('orders', () => {
  let database: TestDatabase;
  let db: Executor;
  let sources: SourcesConfig;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createPgExecutor({ url: database.url });
    await seedDemoOrders(db, SEED);
    sources = sourcesOf(SOURCES);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  const run = (query: string, text: string, sender = 'demo-alice') => {
    const resilience = new Resilience(
      new BreakerRegistry({ consecutiveFailures: 5, halfOpenAfter: 30_000 }, silent),
      silent,
    );
    const { runtime } = testRuntime(sources, {
      orders: new OrderLookup(db, sources.orders!, resilience),
      resilience,
    });
    const yaml = `name: o\ndefault: true\nsteps:\n  - id: orders\n    orders: ${query}\n    fallback: { set: { failed: true } }\n`;
    return runWith(runtime, aiKinds(sources), yaml, text, { sender });
  };
  const count = async () =>
    Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM demo_orders'))[0]?.n);

  it('finds an order by the number in the text, else the sender’s latest orders', async () => {
    const byNumber = await run('lookup', '我的订单 sb20240002 到哪了？');
    expect(byNumber.steps[0]?.output).toMatchObject({
      query: 'lookup',
      count: 1,
      row: { order_no: 'SB20240002' },
    });
    const bySender = await run('lookup', 'where is my order?', 'demo-bob');
    expect(
      (bySender.steps[0]!.output as { rows: { order_no: string }[] }).rows.map((r) => r.order_no),
    ).toEqual(['SB20240003', 'SB20240004']);
  });

  it('SQL injection in the message text or the sender id changes nothing and finds nothing', async () => {
    const before = await count();
    for (const text of [
      "'; DROP TABLE demo_orders; --",
      '1 OR 1=1',
      "SB20240001' OR '1'='1",
      "demo-alice' --",
    ]) {
      const r = await run('by_text', text);
      expect(r.status).toBe('ok');
      expect(r.steps[0]?.output).toMatchObject({ count: 0, row: null });
    }
    const viaSender = await run('lookup', 'my order please', "x' OR '1'='1");
    expect(viaSender.steps[0]?.output).toMatchObject({ count: 0 });
    const dropped = await run('lookup', "'; DROP TABLE demo_orders; -- SB20240001");
    expect(dropped.steps[0]?.output).toMatchObject({ count: 1, row: { order_no: 'SB20240001' } });
    expect(await count()).toBe(before);
    expect(before).toBe(6);
  });

  it('queries run read-only: a writing query fails and the row stays', async () => {
    const r = await run('sneaky', 'SB20240001');
    expect(r.steps[0]).toMatchObject({ status: 'fallback' });
    expect(r.steps[0]?.error).toMatch(
      /^orders: query "sneaky" failed \(25006\): cannot execute DELETE in a read-only transaction$/,
    );
    expect(await count()).toBe(6);
  });

  it('a missing required value skips the query and says what is missing', async () => {
    const r = await run('by_number_required', 'no number here');
    expect(r.steps[0]).toMatchObject({
      status: 'ok',
      output: { count: 0, row: null, missing: 'order number' },
    });
  });

  it('the demo seed is idempotent', async () => {
    await seedDemoOrders(db, SEED);
    await seedDemoOrders(db, SEED);
    expect(await count()).toBe(6);
  });

  it('an unreachable order database fails the step quickly with a clear message', async () => {
    const down = createPgExecutor({ url: 'postgres://postgres@127.0.0.1:1/nothing' });
    try {
      const resilience = new Resilience(
        new BreakerRegistry({ consecutiveFailures: 5, halfOpenAfter: 30_000 }, silent),
        silent,
      );
      const { runtime } = testRuntime(sources, {
        orders: new OrderLookup(down, sources.orders!, resilience),
        resilience,
      });
      const started = performance.now();
      const r = await runWith(
        runtime,
        aiKinds(sources),
        'steps:\n  - orders: lookup\n    fallback: { reply: sorry }\n',
        'SB20240001',
      );
      expect(performance.now() - started).toBeLessThan(2500);
      expect(r.replies.map((x) => x.text)).toEqual(['sorry']);
      expect(r.steps[0]?.error).toMatch(/^orders: .*(ECONNREFUSED|connect)/);
    } finally {
      await down.close();
    }
  });

  it('config errors are file:line:col: placeholders that do not fit the params, a demo seed elsewhere', () => {
    expect(
      sourceIssues(`orders:
  database: postgres://x@127.0.0.1/orders
  demoSeed: true
  queries:
    q:
      sql: SELECT $1, $3
      params: [text]
`),
    ).toEqual([
      'hub.yaml:7:15 the SQL uses placeholders up to $3 but 1 parameter(s) are declared',
      'hub.yaml:6:12 placeholder $2 is never used in the SQL',
      'hub.yaml:3:13 demoSeed only seeds the hub store (database: store)',
    ]);
  });

  it('a workflow naming an unknown query is a load error at its position', async () => {
    const t = tempDir({ 'w.yaml': 'steps:\n  - orders: { query: nope }\n' });
    try {
      const { issues } = await loadWorkflowFiles([t.path('w.yaml')], aiKinds(sources));
      expect(issues.map(formatConfigIssue)).toEqual([
        `${t.path('w.yaml')}:2:22 unknown order query "nope" (declared under sources.orders.queries in hub.yaml: lookup, by_text, by_number_required, sneaky)`,
      ]);
    } finally {
      t.cleanup();
    }
  });
});
