/**
 * Hybrid recall through a running hub (real Redis, real PostgreSQL, fake Dify and LLM servers on
 * 127.0.0.1): the after-sales demo with every source on, streaming into the web chat; a slow Dify
 * timing out while the KB answers; its breaker opening, skipping Dify at once, and recovering;
 * Dify chat conversations kept across messages; Chinese and English KB answers; a `kb ingest`
 * from the command line seen by the running hub within seconds.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ingest } from '../../src/ai/kb/index.ts';
import { storeKbRepository } from '../../src/ai/kb-source.ts';
import { createPgExecutor } from '../../src/store/pg-executor.ts';
import type { StepRecord } from '../../src/store/types.ts';
import { FakeDify } from '../fakes/dify-server.ts';
import { FakeOpenAI } from '../fakes/openai-server.ts';
import { eventually, startTestHub, type TestHub } from '../helpers/hub.ts';
import { runCli } from '../helpers/processes.ts';
import { openSse } from '../helpers/sse.ts';
import { tempDir } from '../workflows/helpers.ts';
import { REPO_CONFIG } from './helpers.ts';

const RECALL = `name: recall
priority: 50
match: { regex: "^recall" }
steps:
  - id: recall
    parallel:
      - id: dify
        dify: slow
        timeout: 250ms
        fallback: { set: { dify_down: true } }
      - { id: kb, kb: after-sales }
  - reply: "{% if steps.dify.answer %}dify: {{ steps.dify.answer }}{% else %}kb: {{ steps.kb.top.id }}{% endif %}"
`;
const CHAT = `name: chat
priority: 50
match: { regex: "^chat" }
steps:
  - { id: dify, dify: helper }
  - reply: "{{ steps.dify.answer }}"
`;
const HOT = `name: hot
priority: 50
match: { regex: "^hot " }
steps:
  - id: kb
    kb: { collection: hot, query: "{{ message.text | remove_first: 'hot ' }}" }
  - reply: "{{ steps.kb.top.answer | default: 'nothing' }}"
`;
const KB = `name: kb
default: true
steps:
  - { id: kb, kb: after-sales }
  - handoff: { when: "steps.kb.top.score < 0.1", queue: after-sales, reply: "human please" }
  - reply: "{{ steps.kb.top.id }}"
`;

describe('hybrid recall in a running hub', () => {
  let dify: FakeDify;
  let openai: FakeOpenAI;
  let t: TestHub;
  let hot: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    dify = await new FakeDify(['k-slow', 'k-chat', 'k-guide']).start();
    openai = await new FakeOpenAI().start();
    hot = tempDir();
    const repoHub = parse(readFileSync(join(REPO_CONFIG, 'hub.yaml'), 'utf8'));
    const sources = {
      kb: {
        watchInterval: '300ms',
        ingest: [
          { path: join(REPO_CONFIG, 'kb'), collection: 'after-sales' },
          { path: join(hot.dir, 'auto'), collection: 'auto' }, // created later, by the test
        ],
      },
      orders: { ...repoHub.sources.orders, demoSeed: join(REPO_CONFIG, 'orders', 'demo-orders.yaml') },
      dify: {
        baseURL: dify.baseURL,
        apps: {
          slow: {
            apiKey: 'k-slow',
            inputs: { query: '{{ message.text }}' },
            breaker: { consecutiveFailures: 3, halfOpenAfter: '800ms' },
          },
          helper: { mode: 'chat', apiKey: 'k-chat', responseMode: 'streaming' },
          'refund-guide': { apiKey: 'k-guide', inputs: { query: '{{ message.text }}' } },
        },
      },
      llm: {
        promptsDir: join(REPO_CONFIG, 'prompts'),
        models: { default: { baseURL: openai.baseURL, apiKey: 'sk', model: 'fake-chat' } },
      },
    };
    t = await startTestHub({
      database: 'pg',
      hubYaml: stringify({
        channels: [{ id: 'web', type: 'web' }],
        queue: { partitions: 2, backoff: '50ms', lockDuration: '2s', partitionLease: '1500ms' },
        sources,
      }),
      workflows: {
        'after-sales.yaml': readFileSync(join(REPO_CONFIG, 'workflows', 'after-sales.yaml'), 'utf8'),
        'recall.yaml': RECALL,
        'chat.yaml': CHAT,
        'hot.yaml': HOT,
        'auto.yaml': HOT.replace('name: hot', 'name: auto')
          .replace('^hot ', '^auto ')
          .replace('collection: hot', 'collection: auto')
          .replace("'hot '", "'auto '"),
        'kb.yaml': KB,
      },
    });
  });
  afterAll(async () => {
    await t?.stop();
    await dify?.close();
    await openai?.close();
    hot?.cleanup();
  });

  const session = async (visitor?: string) =>
    (await t.post('/v1/chat/create', visitor ? { visitor: { id: visitor } } : {})).body.session_id as string;
  const ask = async (sid: string, text: string) => {
    const res = await t.post('/v1/chat/send', { session_id: sid, text, wait: true, timeout_ms: 8000 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return {
      id: res.body.message_id as string,
      texts: (res.body.replies as { text: string }[]).map((r) => r.text),
    };
  };
  // The run record is written next to the replies' delivery, so it may land just after the answer.
  const runOf = (inboundId: string) =>
    eventually(
      async () => (await t.hub.store.listRuns({ inboundMessageId: inboundId }))[0],
      `run of ${inboundId}`,
      3000,
      20,
    );
  const branch = (steps: StepRecord[], id: string) => steps[0]?.children?.find((c) => c.id === id);

  it('the after-sales demo with every source on: recall in parallel, the LLM streams its answer, the reply arrives once', async () => {
    openai.reply = (call) => {
      const system = call.body.messages[0]?.content ?? '';
      return `Seen: ${[...system.matchAll(/\[([a-z]+:[^\]]+)\]/g)].map((m) => m[1]).join(', ')}`;
    };
    openai.behaviour = { chunkDelayMs: 5 };
    const sid = await session('demo-alice');
    const events = await openSse(`${t.url}/v1/chat/events?session_id=${sid}`);
    try {
      const sent = await t.post('/v1/chat/send', { session_id: sid, text: 'where is my order SB20240002?' });
      expect(sent.status).toBe(202);
      const [message] = await events.waitFor(1, (e) => e.event === 'message', 10_000);
      expect(message?.data.text).toMatch(
        /^Seen: dify:refund-guide, kb:\S+, kb:\S+, kb:\S+, orders:order_lookup#1$/,
      );
      const deltas = events.events.filter((e) => e.event === 'delta');
      expect(deltas.length).toBeGreaterThan(3);
      expect(deltas.every((d) => d.at <= message!.at && d.data.in_reply_to === sent.body.message_id)).toBe(
        true,
      );
      expect(
        deltas
          .filter((d) => !d.data.done)
          .map((d) => d.data.text)
          .join(''),
      ).toBe(message?.data.text);
      expect(deltas.at(-1)?.data).toMatchObject({ done: true });
      await new Promise((r) => setTimeout(r, 300));
      expect(events.events.filter((e) => e.event === 'message')).toHaveLength(1);
      const run = await runOf(sent.body.message_id);
      expect(run.steps[0]?.children?.map((c) => [c.id, c.status])).toEqual([
        ['dify', 'ok'],
        ['kb', 'ok'],
        ['orders', 'ok'],
      ]);
      expect(branch(run.steps, 'orders')?.output).toMatchObject({
        row: { order_no: 'SB20240002', status: 'shipped' },
      });
    } finally {
      events.close();
      openai.behaviour = {};
    }
  });

  it('a slow Dify trips its timeout and the KB answer is sent; after 3 the breaker opens and Dify is skipped at once; it recovers', async () => {
    dify.behaviour = { delayMs: 1500 };
    const sid = await session();
    const callsBefore = dify.callsTo('/v1/workflows/run').length;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const r = await ask(sid, `recall 东西不想要了能退吗 ${i}`);
      expect(r.texts).toEqual(['kb: return-request']);
      expect(performance.now() - started).toBeLessThan(1400);
      const rec = branch((await runOf(r.id)).steps, 'dify');
      expect(rec).toMatchObject({ status: 'fallback', error: 'timed out after 250ms' });
    }
    expect(dify.callsTo('/v1/workflows/run').length - callsBefore).toBe(3);

    const skipped = await ask(sid, 'recall 退款多久到账');
    expect(skipped.texts).toEqual(['kb: refund-timing']);
    const rec = branch((await runOf(skipped.id)).steps, 'dify')!;
    expect(rec.status).toBe('fallback');
    expect(rec.error).toBe('dify:slow: circuit breaker is open after repeated failures; not called');
    expect(rec.ms).toBeLessThan(240); // not called at all: under the app's 250 ms timeout
    expect(dify.callsTo('/v1/workflows/run').length - callsBefore).toBe(3);

    const ready = await (await fetch(`${t.url}/readyz`)).json();
    expect(ready.checks.breakers.detail).toMatchObject({ 'dify:slow': 'open' });
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    const fallbacks = metrics.match(/^switchboard_fallbacks_total\{[^}]*kind="dify"[^}]*\} (\d+)/m);
    expect(Number(fallbacks?.[1])).toBeGreaterThanOrEqual(4);
    expect(metrics).toMatch(/^switchboard_breaker_open\{target="dify:slow"\} 1$/m);

    dify.behaviour = {};
    await new Promise((r) => setTimeout(r, 900));
    const back = await ask(sid, 'recall hello again');
    expect(back.texts).toEqual(['dify: Dify says: recall hello again']);
    const after = await (await fetch(`${t.url}/readyz`)).json();
    expect(after.checks.breakers.detail).toMatchObject({ 'dify:slow': 'closed' });
  });

  it('a Dify chat app keeps its conversation_id across two messages of one conversation', async () => {
    const sid = await session();
    const first = await ask(sid, 'chat 第一句');
    expect(first.texts).toEqual(['Dify says: chat 第一句']);
    const second = await ask(sid, 'chat second');
    expect(second.texts).toEqual(['Dify says: chat second']);
    const [a, b] = dify.callsTo('/v1/chat-messages').slice(-2);
    expect(a?.body.conversation_id).toBe('');
    expect(b?.body.conversation_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(dify.conversations.has(b?.body.conversation_id ?? '')).toBe(true);
    const conversationId = (await t.hub.store.getMessage(first.id))!.conversationId;
    const meta = (await t.hub.store.getConversation(conversationId))!.meta;
    expect(meta['dify:helper']).toBe(b?.body.conversation_id);
  });

  it('Chinese and English questions find the right entry; an off-topic one goes to a human', async () => {
    const sid = await session();
    expect((await ask(sid, '我收到的杯子碎了怎么办')).texts).toEqual(['damaged-item']);
    expect((await ask(sid, '公司报销需要开增值税专票')).texts).toEqual(['invoice-request']);
    expect((await ask(sid, 'I forgot my password')).texts).toEqual(['password-reset']);
    expect((await ask(sid, 'how long until my money comes back')).texts).toEqual(['refund-timing']);
    const other = await session();
    expect((await ask(other, '今天天气怎么样')).texts[0]).toBe('human please');
  });

  it('a file that appears or changes under sources.kb.ingest is ingested by the running hub itself', async () => {
    mkdirSync(join(hot.dir, 'auto'));
    writeFileSync(join(hot.dir, 'auto', 'faq.yaml'), faq('auto v1'));
    const sid = await session();
    await eventually(
      async () => (await ask(sid, 'auto what is the magic word?')).texts[0] === 'auto v1',
      'auto v1',
      5000,
      100,
    );
    writeFileSync(join(hot.dir, 'auto', 'faq.yaml'), faq('auto v2'));
    await eventually(
      async () => (await ask(sid, 'auto what is the magic word?')).texts[0] === 'auto v2',
      'auto v2',
      5000,
      100,
    );
  });

  it('`kb ingest` of a changed file is seen by the running hub within seconds; `kb search --file --json` prints one line per query', async () => {
    const file = hot.write('hot.yaml', faq('v1: abracadabra'));
    const env = { CONFIG_DIR: t.configDir, DATABASE_URL: t.databaseUrl!, LOG_LEVEL: 'silent' };
    // The first version straight into the database (another process, as far as the hub knows).
    const db = createPgExecutor({ url: t.databaseUrl! });
    try {
      expect(await ingest(file, { repository: storeKbRepository(db), collection: 'hot' })).toMatchObject({
        added: 2,
      });
    } finally {
      await db.close();
    }
    const sid = await session();
    await eventually(
      async () => (await ask(sid, 'hot what is the magic word?')).texts[0] === 'v1: abracadabra',
      'v1 served',
      5000,
      100,
    );

    writeFileSync(file, faq('v2: open sesame'));
    const second = await runCli(['kb', 'ingest', file, '--collection', 'hot'], env);
    expect(second.stdout).toMatch(/^kb hot: 1 file\(s\), 0 added, 1 updated, 0 removed, 1 unchanged/);
    const changedAt = performance.now();
    await eventually(
      async () => (await ask(sid, 'hot what is the magic word?')).texts[0] === 'v2: open sesame',
      'v2 served',
      5000,
      100,
    );
    expect(performance.now() - changedAt).toBeLessThan(3000);

    const queries = hot.write('queries.txt', '东西不想要了能退吗\n\nCan I pay in installments?\n');
    const search = await runCli(
      ['kb', 'search', '--file', queries, '--json', '--collection', 'after-sales'],
      env,
    );
    expect(search.code).toBe(0);
    const lines = search.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.query, l.results[0].id])).toEqual([
      ['东西不想要了能退吗', 'return-request'],
      ['Can I pay in installments?', 'installments'],
    ]);
    expect(Object.keys(lines[0].results[0]).sort()).toEqual(['answer', 'id', 'question', 'score']);
  });
});

function faq(answer: string): string {
  return `entries:
  - id: magic
    question: What is the magic word?
    similar: [tell me the magic word, magic word please]
    answer: "${answer}"
  - id: other
    question: How do I reset my password?
    similar: [forgot password]
    answer: Use the reset link.
`;
}
