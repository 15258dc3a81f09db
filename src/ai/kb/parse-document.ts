/**
 * Markdown and plain-text documents → passages. Markdown is first cut at its headings, so that
 * every passage knows the heading trail it sits under (that trail becomes the passage's
 * "question" and is what BM25 weighs most); long sections are then split by langchain's
 * recursive splitter, with Chinese sentence ends among the separators.
 */
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import type { IngestIssue } from './types.ts';

/** One passage before ids and hashes are assigned. */
export interface PassageDraft {
  /** Heading trail (`Returns policy › Refund timing`), or the document title. */
  question: string;
  answer: string;
  /** 1-based line where the passage's section starts. */
  row: number;
}

/** Splitter settings; characters, not tokens, because CJK and Latin text mix. */
export interface SplitOptions {
  chunkSize: number;
  chunkOverlap: number;
}

export const DEFAULT_SPLIT_OPTIONS: SplitOptions = { chunkSize: 600, chunkOverlap: 60 };

const SEPARATORS = ['\n\n', '\n', '。', '！', '？', '. ', '! ', '? ', '；', '; ', '，', ', ', ' ', ''];

interface Section {
  trail: string[];
  line: number;
  body: string[];
}

/** Cut Markdown at ATX headings (`#` … `######`), ignoring `#` lines inside fenced code. */
function sections(text: string, title: string): Section[] {
  const out: Section[] = [];
  const trail: string[] = [];
  let current: Section = { trail: [], line: 1, body: [] };
  let fence: string | null = null;
  text.split(/\r?\n/).forEach((line, i) => {
    const fenceMatch = /^\s*(```|~~~)/.exec(line);
    if (fenceMatch) fence = fence === null ? fenceMatch[1]! : fence === fenceMatch[1] ? null : fence;
    const heading = fence === null ? /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line) : null;
    if (!heading) {
      current.body.push(line);
      return;
    }
    out.push(current);
    const level = heading[1]!.length;
    trail.length = Math.min(trail.length, level - 1);
    trail[level - 1] = heading[2]!;
    current = { trail: trail.filter((h) => h !== undefined), line: i + 1, body: [] };
  });
  out.push(current);
  return out
    .filter((s) => s.body.join('\n').trim().length > 0)
    .map((s) => ({ ...s, trail: s.trail.length > 0 ? s.trail : [title] }));
}

/** Passages of one Markdown (`markdown: true`) or plain-text document. */
export async function parseDocument(
  text: string,
  file: string,
  opts: { markdown: boolean; split?: Partial<SplitOptions> },
): Promise<{ drafts: PassageDraft[]; issues: IngestIssue[] }> {
  const split = { ...DEFAULT_SPLIT_OPTIONS, ...opts.split };
  const splitter = new RecursiveCharacterTextSplitter({
    ...split,
    separators: SEPARATORS,
    keepSeparator: true,
  });
  const title = file.replace(/^.*\//, '').replace(/\.[^.]+$/, '');
  const parts = opts.markdown ? sections(text, title) : [{ trail: [title], line: 1, body: [text] }];
  const drafts: PassageDraft[] = [];
  for (const section of parts) {
    const question = section.trail.join(' › ');
    for (const chunk of await splitter.splitText(section.body.join('\n').trim())) {
      const answer = chunk.trim();
      if (answer.length > 0) drafts.push({ question, answer, row: section.line });
    }
  }
  return { drafts, issues: drafts.length === 0 ? [{ file, row: 0, message: 'no text to index' }] : [] };
}
