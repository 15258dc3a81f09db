/**
 * FAQ files → entry drafts. Three formats carry the same fields (`question`, `answer`,
 * `similar`, `tags`, optional `id`): CSV with a header row, JSONL with one object a line, and
 * YAML (a list, or a map with an `entries`/`faq` list). A bad row becomes an issue that names
 * the file and row; the other rows still come through.
 */

import type { Node as YamlNode } from 'yaml';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { parseCsv } from './csv.ts';
import type { IngestIssue } from './types.ts';

/** One FAQ row before ids and hashes are assigned. */
export interface FaqDraft {
  id?: string;
  question: string;
  similar: string[];
  answer: string;
  tags: string[];
  /** 1-based row (line) in the file, for messages. */
  row: number;
}

/** Drafts and problems of one file. */
export interface ParsedFile<T> {
  drafts: T[];
  issues: IngestIssue[];
}

/** Column names ops may use instead of the canonical ones (Chinese headers are common). */
const ALIASES: Record<string, string> = {
  q: 'question',
  问题: 'question',
  标准问题: 'question',
  标准问: 'question',
  a: 'answer',
  答案: 'answer',
  回答: 'answer',
  similar_questions: 'similar',
  similarquestions: 'similar',
  相似问题: 'similar',
  相似问: 'similar',
  tag: 'tags',
  标签: 'tags',
  编号: 'id',
};

function canonicalKey(key: string): string {
  const k = key.trim().toLowerCase();
  return ALIASES[k] ?? k;
}

/** A list given as a string is split on `|` or newlines (questions may contain commas). */
const questionList = z
  .union([z.array(z.union([z.string(), z.number()])), z.string(), z.null()])
  .optional()
  .transform((v) => splitList(v, /[|\n]/));
/** Tags given as a string may also be separated by commas or semicolons (ASCII or full-width). */
const tagList = z
  .union([z.array(z.union([z.string(), z.number()])), z.string(), z.null()])
  .optional()
  .transform((v) => splitList(v, /[|\n,;，；]/));

function splitList(value: readonly (string | number)[] | string | null | undefined, sep: RegExp): string[] {
  if (value === null || value === undefined) return [];
  const items = typeof value === 'string' ? value.split(sep) : value.map(String);
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}

const rowSchema = z.object({
  id: z
    .union([z.string(), z.number()])
    .optional()
    .transform((v) => (v === undefined || String(v).trim() === '' ? undefined : String(v).trim())),
  question: z.string().trim().min(1, 'question is required'),
  answer: z.string().trim().min(1, 'answer is required'),
  similar: questionList,
  tags: tagList,
});

function toDraft(
  record: Record<string, unknown>,
  file: string,
  row: number,
  out: ParsedFile<FaqDraft>,
): void {
  const canonical: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) canonical[canonicalKey(k)] = v;
  const result = rowSchema.safeParse(canonical);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join('.') || 'row';
    const given = canonical[field];
    const message =
      (given === undefined || given === null) && issue?.code === 'invalid_type'
        ? `${field} is required`
        : issue?.code === 'invalid_type' || issue?.code === 'invalid_union'
          ? `${field}: expected ${field === 'similar' || field === 'tags' ? 'a list or text' : 'text'}`
          : (issue?.message ?? 'bad row');
    out.issues.push({ file, row, message });
    return;
  }
  out.drafts.push({ ...result.data, row });
}

/** CSV with a header row naming the columns. */
export function parseFaqCsv(text: string, file: string): ParsedFile<FaqDraft> {
  const out: ParsedFile<FaqDraft> = { drafts: [], issues: [] };
  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(text);
  } catch (err) {
    out.issues.push({ file, row: 0, message: (err as Error).message });
    return out;
  }
  const [header, ...rows] = records;
  if (!header) return out;
  const columns = header.fields.map(canonicalKey);
  if (!columns.includes('question') || !columns.includes('answer')) {
    out.issues.push({ file, row: header.line, message: 'header must name the question and answer columns' });
    return out;
  }
  for (const rec of rows) {
    if (rec.fields.length > columns.length) {
      out.issues.push({
        file,
        row: rec.line,
        message: `${rec.fields.length} fields, header has ${columns.length}`,
      });
      continue;
    }
    const record: Record<string, unknown> = {};
    columns.forEach((col, i) => {
      record[col] = rec.fields[i] ?? '';
    });
    toDraft(record, file, rec.line, out);
  }
  return out;
}

/** JSON Lines: one object per line; blank lines and `//` comment lines are skipped. */
export function parseFaqJsonl(text: string, file: string): ParsedFile<FaqDraft> {
  const out: ParsedFile<FaqDraft> = { drafts: [], issues: [] };
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed.length === 0 || trimmed.startsWith('//')) return;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (err) {
      out.issues.push({ file, row: i + 1, message: `invalid JSON: ${(err as Error).message}` });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      out.issues.push({ file, row: i + 1, message: 'expected a JSON object' });
      return;
    }
    toDraft(value as Record<string, unknown>, file, i + 1, out);
  });
  return out;
}

/** YAML: a list of entries, or a map whose `entries` (or `faq`) key holds the list. */
export function parseFaqYaml(text: string, file: string): ParsedFile<FaqDraft> {
  const out: ParsedFile<FaqDraft> = { drafts: [], issues: [] };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (node: YamlNode | null | undefined) => (node?.range ? lines.linePos(node.range[0]).line : 0);
  const firstError = doc.errors[0];
  if (firstError) {
    const row = firstError.linePos?.[0].line ?? 0;
    out.issues.push({ file, row, message: firstError.message.split('\n')[0] ?? 'invalid YAML' });
    return out;
  }
  let list: unknown = doc.contents;
  if (isMap(list)) list = list.get('entries', true) ?? list.get('faq', true);
  if (!isSeq(list)) {
    out.issues.push({
      file,
      row: lineOf(doc.contents as YamlNode | null),
      message: 'expected a list of entries',
    });
    return out;
  }
  for (const item of list.items) {
    const row = lineOf(item as YamlNode);
    if (!isMap(item)) {
      out.issues.push({ file, row, message: 'expected an entry (a map with question and answer)' });
      continue;
    }
    toDraft(item.toJSON() as Record<string, unknown>, file, row, out);
  }
  return out;
}
