import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { queriesFromText, searchToJsonLines } from '../../../src/ai/kb/cli.ts';
import { ingest } from '../../../src/ai/kb/ingest.ts';
import { KnowledgeBase } from '../../../src/ai/kb/knowledge-base.ts';
import { MemoryKbRepository } from '../../../src/ai/kb/repository.ts';

const SAMPLE = fileURLToPath(new URL('../../../config/kb', import.meta.url));

let kb: KnowledgeBase;
beforeAll(async () => {
  const repository = new MemoryKbRepository();
  const report = await ingest(SAMPLE, { repository, collection: 'after-sales' });
  expect(report.errors).toEqual([]);
  kb = await KnowledgeBase.open({ repository });
});

describe('search over the sample after-sales knowledge', () => {
  it.each([
    ['我想退货', 'return-request'],
    ['退款多久到账', 'refund-timing'],
    ['how long does delivery take', 'delivery-time'],
    ['order 发票', 'invoice-request'],
    ['怎么查快递到哪了', 'tracking'],
    ['I forgot my password', 'password-reset'],
    ['能用支付宝付款吗', 'payment-methods'],
    ['地址写错了想改一下', 'change-address'],
    ['保修期是多久', 'warranty-policy'],
    ['转人工', 'human-agent'],
  ])('%s → %s', async (query, id) => {
    const [top] = await kb.search(query, { collection: 'after-sales' });
    expect(top?.id).toBe(id);
    expect(top?.score).toBeGreaterThanOrEqual(0.25);
  });

  it('returns scores in [0, 1], best first, with the retrievers that found each result', async () => {
    const results = await kb.search('我想退货', { top: 5 });
    expect(results).toHaveLength(5);
    for (const r of results) {
      expect(r.score).toBeGreaterThanOrEqual(0);
      expect(r.score).toBeLessThanOrEqual(1);
      expect(r.via.length).toBeGreaterThan(0);
    }
    expect(results.map((r) => r.score)).toEqual([...results.map((r) => r.score)].sort((a, b) => b - a));
    expect(results[0]).toMatchObject({ source: 'faq.yaml', tags: ['returns', '退货'], kind: 'faq' });
    expect(results[0]?.via).toEqual(expect.arrayContaining(['intent', 'bm25']));
  });

  it('finds policy passages through BM25', async () => {
    const results = await kb.search('parcel lost by the carrier', { top: 3 });
    expect(
      results.some((r) => r.kind === 'passage' && r.question.includes('Shipping') && r.via.includes('bm25')),
    ).toBe(true);
  });

  it('gives off-topic questions a score a workflow can hand off on', async () => {
    for (const q of ['what is the weather tomorrow', '今天天气怎么样', 'hello']) {
      const [top] = await kb.search(q);
      expect(top?.score ?? 0).toBeLessThan(0.15);
    }
  });

  it('searches one collection, or none when it is unknown', async () => {
    expect(await kb.search('我想退货', { collection: 'nope' })).toEqual([]);
    expect(await kb.search('   ')).toEqual([]);
    expect(kb.collections()).toEqual(['after-sales']);
  });

  it('restricts to the retrievers asked for', async () => {
    const results = await kb.search('invoice', { retrievers: ['bm25'], top: 5 });
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((r) => r.via.length === 1 && r.via[0] === 'bm25')).toBe(true);
  });

  it('formats one JSON line per query for `kb search --json`', async () => {
    const lines = await searchToJsonLines(
      kb,
      queriesFromText('我想退货\n\n  how long does delivery take  \n'),
      { top: 2 },
    );
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!);
    expect(first.query).toBe('我想退货');
    expect(first.results).toHaveLength(2);
    expect(Object.keys(first.results[0]).sort()).toEqual(['answer', 'id', 'question', 'score']);
    expect(first.results[0].id).toBe('return-request');
    expect(JSON.parse(lines[1]!).results[0].id).toBe('delivery-time');
  });
});
