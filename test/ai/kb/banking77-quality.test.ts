/**
 * Quality guard on Banking77: train on a deterministic 80% of train.csv, ask the other 20%
 * (test.csv is never touched here). Thresholds are the measured figures (top-1 0.9055,
 * top-3 0.9695 for the fused local mode) minus a small margin, so a regression in tokenisation,
 * features, training or fusion fails CI.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../src/ai/kb/csv.ts';
import { buildLabelledKb, evaluate } from '../../../src/ai/kb/evaluate.ts';

const DIR =
  process.env.BANKING77_DIR ?? fileURLToPath(new URL('../../../../shared/data/banking77', import.meta.url));

describe('Banking77 validation split', () => {
  it('fused local retrieval keeps top-1 ≥ 0.89 and top-3 ≥ 0.96', { timeout: 60_000 }, async () => {
    expect(existsSync(`${DIR}/train.csv`), `Banking77 not found at ${DIR} (set BANKING77_DIR)`).toBe(true);
    const rows = parseCsv(readFileSync(`${DIR}/train.csv`, 'utf8'))
      .slice(1)
      .map((r) => ({ text: r.fields[0] ?? '', label: r.fields[1] ?? '' }));
    const fit = rows.filter((_, i) => i % 5 !== 0);
    const held = rows.filter((_, i) => i % 5 === 0);
    const { kb } = await buildLabelledKb(fit);
    const local = await evaluate(kb, held, ['bm25', 'intent']);
    expect(local.top1).toBeGreaterThanOrEqual(0.89);
    expect(local.top3).toBeGreaterThanOrEqual(0.96);
  });
});
