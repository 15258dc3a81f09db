/**
 * Measure a knowledge base on labelled queries (query → expected entry id): top-1/top-3 accuracy
 * and throughput. The Banking77 benchmark and its CI guard use it; ops can use it on their own
 * logs of real questions to see whether an edit of the FAQ helped.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IndexOptions } from './collection-index.ts';
import type { KbEmbedder } from './embedder.ts';
import { ingest } from './ingest.ts';
import { KnowledgeBase } from './knowledge-base.ts';
import { MemoryKbRepository } from './repository.ts';
import type { Retriever } from './types.ts';

/** A query and the id of the entry that answers it. */
export interface LabelledQuery {
  text: string;
  label: string;
}

/** Accuracy and speed of one retriever mix. */
export interface EvalResult {
  top1: number;
  top3: number;
  queries: number;
  queriesPerSec: number;
}

/** "card_arrival" → "Card arrival": an intent name as a readable question. */
export function humanize(label: string): string {
  const words = label.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * One FAQ entry per label (id = label, question = humanized label, similar = its training
 * queries), ingested through the normal JSONL path into an in-memory repository.
 * `ingestMs` covers parsing, storing, embedding (if any) and building the index.
 */
export async function buildLabelledKb(
  training: readonly LabelledQuery[],
  opts: { embedder?: KbEmbedder | null; index?: IndexOptions } = {},
): Promise<{ kb: KnowledgeBase; ingestMs: number }> {
  const byLabel = new Map<string, string[]>();
  for (const q of training) {
    let list = byLabel.get(q.label);
    if (!list) {
      list = [];
      byLabel.set(q.label, list);
    }
    list.push(q.text);
  }
  const lines = [...byLabel].map(([label, similar]) =>
    JSON.stringify({ id: label, question: humanize(label), answer: humanize(label), similar }),
  );
  const dir = await mkdtemp(join(tmpdir(), 'kb-eval-'));
  try {
    const file = join(dir, 'intents.jsonl');
    await writeFile(file, `${lines.join('\n')}\n`);
    const started = performance.now();
    const repository = new MemoryKbRepository();
    const report = await ingest(file, { repository, collection: 'eval', embedder: opts.embedder });
    if (report.errors.length > 0) throw new Error(`ingest failed: ${report.errors[0]?.message}`);
    const kb = await KnowledgeBase.open({ repository, embedder: opts.embedder, index: opts.index });
    return { kb, ingestMs: Math.round(performance.now() - started) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Ask every query (restricted to `retrievers`) and score the top 3 against the labels. */
export async function evaluate(
  kb: KnowledgeBase,
  queries: readonly LabelledQuery[],
  retrievers: readonly Retriever[],
): Promise<EvalResult> {
  let top1 = 0;
  let top3 = 0;
  const started = performance.now();
  for (const q of queries) {
    const results = await kb.search(q.text, { top: 3, retrievers });
    if (results[0]?.id === q.label) top1++;
    if (results.some((r) => r.id === q.label)) top3++;
  }
  const seconds = (performance.now() - started) / 1000;
  const n = queries.length || 1;
  return {
    top1: round4(top1 / n),
    top3: round4(top3 / n),
    queries: queries.length,
    queriesPerSec: Math.round(queries.length / (seconds || 1e-9)),
  };
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
