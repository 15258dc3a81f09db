/**
 * Knowledge-base recall on Banking77 (`npx tsx bench/kb.ts`): one entry per intent whose similar
 * questions are that intent's train.csv queries; every test.csv query is asked; one JSON line per
 * retriever mix. test.csv is only ever asked, never indexed or trained on.
 *
 * Data: `BANKING77_DIR`, else `../shared/data/banking77` from the repository root.
 * Vector mode (`hybrid`) runs only with an embedding endpoint: `KB_EMBEDDINGS_BASE_URL`,
 * `KB_EMBEDDINGS_MODEL`, optional `KB_EMBEDDINGS_API_KEY` and `KB_EMBEDDINGS_DIMENSIONS`.
 * `--split val` evaluates on a deterministic 20% of train.csv instead (for tuning).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { kbEmbeddingsConfigSchema } from '../src/ai/kb/config.ts';
import { parseCsv } from '../src/ai/kb/csv.ts';
import type { KbEmbedder } from '../src/ai/kb/embedder.ts';
import { createOpenAIEmbedder } from '../src/ai/kb/embedder.ts';
import type { LabelledQuery } from '../src/ai/kb/evaluate.ts';
import { buildLabelledKb, evaluate } from '../src/ai/kb/evaluate.ts';
import type { Retriever } from '../src/ai/kb/types.ts';

/** Published top-1 on the same split: fine-tuned BERT (Casanueva et al., 2020). */
const BERT_TOP1 = 0.937;

const dataDir =
  process.env.BANKING77_DIR ?? fileURLToPath(new URL('../../shared/data/banking77', import.meta.url));

function load(file: string): LabelledQuery[] {
  const [header, ...rows] = parseCsv(readFileSync(`${dataDir}/${file}`, 'utf8'));
  if (header?.fields[0] !== 'text' || header.fields[1] !== 'category')
    throw new Error(`${file}: unexpected header`);
  return rows.map((r) => ({ text: r.fields[0] ?? '', label: r.fields[1] ?? '' }));
}

async function embedderFromEnv(): Promise<KbEmbedder | null> {
  if (!process.env.KB_EMBEDDINGS_BASE_URL) return null;
  return createOpenAIEmbedder(
    kbEmbeddingsConfigSchema.parse({
      baseURL: process.env.KB_EMBEDDINGS_BASE_URL,
      model: process.env.KB_EMBEDDINGS_MODEL ?? 'text-embedding-3-small',
      apiKey: process.env.KB_EMBEDDINGS_API_KEY,
      dimensions: process.env.KB_EMBEDDINGS_DIMENSIONS
        ? Number(process.env.KB_EMBEDDINGS_DIMENSIONS)
        : undefined,
    }),
  );
}

async function main(): Promise<void> {
  const validation = process.argv.includes('--split') && process.argv.includes('val');
  const train = load('train.csv');
  // The validation split holds out every fifth train query; the test split is test.csv.
  const fit = validation ? train.filter((_, i) => i % 5 !== 0) : train;
  const asked = validation ? train.filter((_, i) => i % 5 === 0) : load('test.csv');
  const embedder = await embedderFromEnv();
  const { kb, ingestMs } = await buildLabelledKb(fit, { embedder });
  const modes: [string, Retriever[]][] = [
    ['bm25', ['bm25']],
    ['intent', ['intent']],
    ['local', ['bm25', 'intent']],
  ];
  if (embedder) modes.push(['vector', ['vector']], ['hybrid', ['bm25', 'intent', 'vector']]);
  for (const [mode, retrievers] of modes) {
    const r = await evaluate(kb, asked, retrievers);
    console.log(
      JSON.stringify({
        bench: 'kb',
        dataset: validation ? 'banking77-val' : 'banking77',
        mode,
        top1: r.top1,
        top3: r.top3,
        queries: r.queries,
        queriesPerSec: r.queriesPerSec,
        ingestMs,
        trainQueries: fit.length,
        ...(validation
          ? {}
          : { bertTop1: BERT_TOP1, gapToBert: Math.round((r.top1 - BERT_TOP1) * 10_000) / 10_000 }),
      }),
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
