/**
 * The knowledge base with vectors, its embedding calls guarded: when the embeddings endpoint
 * stops answering, `kb` steps still answer from BM25 and the intent model, say so, and stop
 * calling the endpoint once its breaker is open.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ingest, KnowledgeBase, MemoryKbRepository } from '../../src/ai/kb/index.ts';
import { guardedEmbedder } from '../../src/ai/kb-source.ts';
import { BreakerRegistry } from '../../src/resilience/breakers.ts';
import { Resilience } from '../../src/resilience/guard.ts';
import { FakeOpenAI } from '../fakes/openai-server.ts';
import { silent } from '../workflows/helpers.ts';
import { aiKinds, REPO_CONFIG, runWith, sourcesOf, testRuntime } from './helpers.ts';

let openai: FakeOpenAI;
beforeAll(async () => {
  openai = await new FakeOpenAI().start();
});
afterAll(() => openai?.close());

it('kb answers without vectors when embeddings time out, and the open breaker spares the endpoint', async () => {
  const sources = sourcesOf(`kb:
  embeddings: { baseURL: "${openai.baseURL}", model: fake-embed, timeout: 300ms, retries: 0, breaker: { consecutiveFailures: 2, halfOpenAfter: 30s } }
`);
  const breakers = new BreakerRegistry({ consecutiveFailures: 5, halfOpenAfter: 30_000 }, silent);
  const resilience = new Resilience(breakers, silent);
  const embedder = await guardedEmbedder(sources.kb, resilience);
  const repository = new MemoryKbRepository();
  await ingest(join(REPO_CONFIG, 'kb'), { repository, collection: 'after-sales', embedder });
  const kb = await KnowledgeBase.open({ repository, embedder });
  const { runtime } = testRuntime(sources, { kb, resilience });
  const yaml = 'steps:\n  - { id: kb, kb: after-sales }\n';

  const healthy = await runWith(runtime, aiKinds(sources), yaml, '东西不想要了能退吗');
  expect(healthy.steps[0]?.output).toMatchObject({ top: { id: 'return-request' } });
  expect((healthy.steps[0]!.output as { results: { via: string[] }[] }).results[0]?.via).toContain('vector');

  openai.embeddingsBehaviour = { delayMs: 5000 };
  for (let i = 0; i < 2; i++) {
    const r = await runWith(runtime, aiKinds(sources), yaml, '东西不想要了能退吗');
    expect(r.steps[0]).toMatchObject({
      status: 'ok',
      output: { top: { id: 'return-request' }, degraded: 'embeddings: no answer within 300ms' },
    });
  }
  expect(breakers.state('embeddings')).toBe('open');
  const calls = openai.embeddingCalls.length;
  const started = performance.now();
  const skipped = await runWith(runtime, aiKinds(sources), yaml, 'Can I pay in installments?');
  expect(performance.now() - started).toBeLessThan(250); // not waiting out the 300 ms timeout
  expect(skipped.steps[0]?.output).toMatchObject({
    top: { id: 'installments' },
    degraded: 'embeddings: circuit breaker is open after repeated failures; not called',
  });
  expect(openai.embeddingCalls.length).toBe(calls);
});
