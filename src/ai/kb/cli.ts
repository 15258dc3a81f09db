/**
 * What the `switchboard kb …` commands call; the commander wiring lives in src/cli/. Output
 * formats are part of the CLI's contract: one JSON object per query line for `--json`.
 */
import type { KbEmbedder } from './embedder.ts';
import { ingest } from './ingest.ts';
import type { KnowledgeBase } from './knowledge-base.ts';
import type { SplitOptions } from './parse-document.ts';
import type { KbRepository } from './repository.ts';
import type { IngestReport } from './types.ts';
import { formatIngestIssue } from './types.ts';

/** Options of `ingestPath`. */
export interface IngestPathOptions {
  repository: KbRepository;
  collection?: string;
  embedder?: KbEmbedder | null;
  split?: Partial<SplitOptions>;
}

/** `switchboard kb ingest <path> [--collection c]`: ingest a file or directory and report. */
export function ingestPath(path: string, opts: IngestPathOptions): Promise<IngestReport> {
  return ingest(path, opts);
}

/** Human-readable report: one summary line, then one `file:row message` line per problem. */
export function formatIngestReport(report: IngestReport): string {
  const summary =
    `kb ${report.collection}: ${report.files} file(s), ${report.added} added, ${report.updated} updated, ` +
    `${report.removed} removed, ${report.unchanged} unchanged, ${report.errors.length} error(s) ` +
    `(version ${report.version}, ${report.ms} ms)`;
  return [summary, ...report.errors.map(formatIngestIssue)].join('\n');
}

/** Options of `searchToJsonLines`. */
export interface SearchLinesOptions {
  collection?: string;
  top?: number;
}

/**
 * `switchboard kb search "…" --json` and `--file queries.txt --json`: one JSON line per query,
 * `{"query": …, "results": [{"id", "score", "question", "answer"}, …]}`, in input order.
 */
export async function searchToJsonLines(
  kb: KnowledgeBase,
  queries: readonly string[],
  opts: SearchLinesOptions = {},
): Promise<string[]> {
  const lines: string[] = [];
  for (const query of queries) {
    const results = await kb.search(query, { collection: opts.collection, top: opts.top ?? 3 });
    lines.push(
      JSON.stringify({
        query,
        results: results.map((r) => ({ id: r.id, score: r.score, question: r.question, answer: r.answer })),
      }),
    );
  }
  return lines;
}

/** Queries of a `--file`: one per line, blank lines and surrounding whitespace dropped. */
export function queriesFromText(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}
