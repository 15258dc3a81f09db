/**
 * The knowledge base's data model: what an entry is, what ingest reports and what search returns.
 * Plain JSON shapes, because entries travel through the store and results into workflow steps.
 */

/** `faq`: a question with its answer and paraphrases. `passage`: a chunk of a policy document. */
export type KbEntryKind = 'faq' | 'passage';

/** One retrievable unit of knowledge, as stored. */
export interface KbEntry {
  /** Collection the entry belongs to (a workflow's `kb: { collection }`). */
  collection: string;
  /** The id the file gives it, else a stable hash of source path + question (or chunk). */
  id: string;
  kind: KbEntryKind;
  /** The FAQ question, or a passage's heading trail (`Returns policy › Refund timing`). */
  question: string;
  /** Paraphrases of `question`: the intent model's training data. Empty for passages. */
  similar: string[];
  /** The answer text, or the passage itself. */
  answer: string;
  tags: string[];
  /** Path of the source file relative to the ingested root, with `/` separators. */
  source: string;
  /** Hash of everything above except `collection`; a changed hash means "updated" on re-ingest. */
  contentHash: string;
  /** Embedding of the entry when an embedder is configured, else null. */
  embedding: number[] | null;
  /** Name of the embedding model that produced `embedding` (a model change means re-embedding). */
  embeddingModel: string | null;
}

/** Which retriever found a result. */
export type Retriever = 'bm25' | 'intent' | 'vector';

/** One search result. `score` is a confidence in [0, 1] that a workflow may threshold. */
export interface SearchResult {
  id: string;
  score: number;
  question: string;
  answer: string;
  source: string;
  tags: string[];
  collection: string;
  kind: KbEntryKind;
  /** Retrievers that ranked this entry, strongest contribution first. */
  via: Retriever[];
}

/** Options of `KnowledgeBase.search`. */
export interface SearchOptions {
  /** Search one collection; omitted ⇒ all collections, merged by score. */
  collection?: string;
  /** Number of results (default 3). */
  top?: number;
  /** Restrict to some retrievers (the benchmark uses this to measure each one alone). */
  retrievers?: readonly Retriever[];
}

/** One problem found while ingesting, printed as `file:row message`. */
export interface IngestIssue {
  file: string;
  /** 1-based row (CSV record, JSONL line, YAML item line); 0 when the whole file is at fault. */
  row: number;
  message: string;
}

/** What an ingest did. */
export interface IngestReport {
  collection: string;
  files: number;
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
  /** Bad rows and unreadable files; everything else was ingested. */
  errors: IngestIssue[];
  /** Store version after the ingest (running hubs compare it to notice the change). */
  version: number;
  ms: number;
}

/** `file:row message` (or `file message` for a whole-file problem). */
export function formatIngestIssue(issue: IngestIssue): string {
  return issue.row > 0 ? `${issue.file}:${issue.row} ${issue.message}` : `${issue.file} ${issue.message}`;
}
