/**
 * `kb ingest <path>`: read FAQ files and documents, turn them into entries, and store only what
 * changed. Each entry carries a content hash, so re-ingesting an edited file adds, updates and
 * removes exactly the entries that differ, and re-embeds only those.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, sep } from 'node:path';
import { NotFoundError } from '../../errors.ts';
import { stableId } from '../../messages.ts';
import type { KbEmbedder } from './embedder.ts';
import { embedEntries } from './embedder.ts';
import type { SplitOptions } from './parse-document.ts';
import { parseDocument } from './parse-document.ts';
import { parseFaqCsv, parseFaqJsonl, parseFaqYaml } from './parse-faq.ts';
import type { KbRepository } from './repository.ts';
import type { IngestIssue, IngestReport, KbEntry } from './types.ts';

/** Options of `ingest`. */
export interface IngestOptions {
  repository: KbRepository;
  /** Target collection (default `default`). */
  collection?: string;
  /** Compute embeddings for new and changed entries (vector search); omitted ⇒ none. */
  embedder?: KbEmbedder | null;
  split?: Partial<SplitOptions>;
}

type Format = 'csv' | 'jsonl' | 'yaml' | 'markdown' | 'text';

const FORMATS: Record<string, Format> = {
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.txt': 'text',
};

/** Supported files under `dir`, recursively, sorted; hidden entries and node_modules are skipped. */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    if (d.name.startsWith('.') || d.name === 'node_modules') continue;
    const full = join(dir, d.name);
    if (d.isDirectory()) out.push(...(await walk(full)));
    else if (d.isFile() && FORMATS[extname(d.name).toLowerCase()]) out.push(full);
  }
  return out.sort();
}

/** Hash of everything an entry shows or is trained on: equal hash ⇒ nothing to redo. */
export function contentHash(
  e: Pick<KbEntry, 'kind' | 'question' | 'similar' | 'answer' | 'tags' | 'source'>,
): string {
  return createHash('sha256')
    .update(JSON.stringify([e.kind, e.question, e.similar, e.answer, e.tags, e.source]))
    .digest('base64url')
    .slice(0, 32);
}

/** Entries of one file (with row numbers for messages) and its problems. */
async function readEntries(
  full: string,
  source: string,
  collection: string,
  split: Partial<SplitOptions> | undefined,
): Promise<{ entries: (KbEntry & { row: number })[]; issues: IngestIssue[] }> {
  const format = FORMATS[extname(full).toLowerCase()];
  if (!format) return { entries: [], issues: [{ file: source, row: 0, message: 'unsupported file type' }] };
  const text = await readFile(full, 'utf8');
  const make = (
    kind: KbEntry['kind'],
    id: string,
    d: { question: string; similar?: string[]; answer: string; tags?: string[]; row: number },
  ) => {
    const base = {
      kind,
      question: d.question,
      similar: d.similar ?? [],
      answer: d.answer,
      tags: d.tags ?? [],
      source,
    };
    return {
      ...base,
      collection,
      id,
      contentHash: contentHash(base),
      embedding: null,
      embeddingModel: null,
      row: d.row,
    };
  };
  if (format === 'markdown' || format === 'text') {
    const parsed = await parseDocument(text, source, { markdown: format === 'markdown', split });
    const seen = new Map<string, number>();
    const entries = parsed.drafts.map((d) => {
      // Identical chunks in one document (a repeated disclaimer) still need distinct ids.
      const key = `${source}\n${d.question}\n${d.answer}`;
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      return make('passage', stableId('kb', n === 0 ? key : `${key}\n${n}`), d);
    });
    return { entries, issues: parsed.issues };
  }
  const parse = format === 'csv' ? parseFaqCsv : format === 'jsonl' ? parseFaqJsonl : parseFaqYaml;
  const parsed = parse(text, source);
  return {
    entries: parsed.drafts.map((d) => make('faq', d.id ?? stableId('kb', `${source}\n${d.question}`), d)),
    issues: parsed.issues,
  };
}

/**
 * Ingest a file or a directory into a collection. A directory is the collection's whole
 * content (entries of files no longer there are removed); a single file replaces only its own
 * entries. A file that cannot be read at all keeps its previous entries.
 */
export async function ingest(path: string, opts: IngestOptions): Promise<IngestReport> {
  const started = performance.now();
  const collection = opts.collection ?? 'default';
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ENOENT' ? new NotFoundError(`${path}: no such file or directory`) : err;
  });
  const root = info.isDirectory() ? path : dirname(path);
  const files = info.isDirectory() ? await walk(path) : [path];
  const toSource = (full: string) =>
    (info.isDirectory() ? relative(root, full) : basename(full)).split(sep).join('/');

  const errors: IngestIssue[] = [];
  const incoming = new Map<string, KbEntry & { row: number }>();
  const failedSources = new Set<string>();
  for (const full of files) {
    const source = toSource(full);
    const { entries, issues } = await readEntries(full, source, collection, opts.split);
    errors.push(...issues);
    if (entries.length === 0 && issues.length > 0) failedSources.add(source);
    for (const e of entries) {
      const first = incoming.get(e.id);
      if (first) {
        errors.push({
          file: source,
          row: e.row,
          message: `duplicate id "${e.id}" (first at ${first.source}:${first.row})`,
        });
        continue;
      }
      incoming.set(e.id, e);
    }
  }

  const sources = new Set(files.map(toSource));
  const existing = (await opts.repository.list({ collection })).filter(
    (e) => info.isDirectory() || sources.has(e.source),
  );
  const before = new Map(existing.map((e) => [e.id, e]));
  const changed: KbEntry[] = [];
  let added = 0;
  let updated = 0;
  let unchanged = 0;
  const model = opts.embedder?.model ?? null;
  for (const { row: _row, ...entry } of incoming.values()) {
    const old = before.get(entry.id);
    const needsVector = model !== null && old?.embeddingModel !== model;
    if (old && old.contentHash === entry.contentHash && !needsVector) {
      unchanged++;
      continue;
    }
    if (old) updated++;
    else added++;
    changed.push(entry);
  }
  const remove = existing.filter((e) => !incoming.has(e.id) && !failedSources.has(e.source)).map((e) => e.id);

  if (opts.embedder && changed.length > 0) {
    const vectors = await embedEntries(opts.embedder, changed);
    changed.forEach((e, i) => {
      e.embedding = vectors[i] ?? null;
      e.embeddingModel = opts.embedder!.model;
    });
  }
  const version =
    changed.length > 0 || remove.length > 0
      ? await opts.repository.apply({ collection, upsert: changed, remove })
      : await opts.repository.version();
  return {
    collection,
    files: files.length,
    added,
    updated,
    removed: remove.length,
    unchanged,
    errors,
    version,
    ms: Math.round(performance.now() - started),
  };
}
