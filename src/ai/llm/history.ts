/**
 * The conversation so far, as chat turns for the model: the last N messages before the one being
 * answered, within a token budget (oldest dropped first), read from the store.
 */
import type { Store, StoredMessage } from '../../store/types.ts';
import type { ChatTurn } from './model.ts';

export interface HistoryOptions {
  /** At most this many earlier messages. */
  messages: number;
  /** At most this many (estimated) tokens of them. */
  maxTokens: number;
  /** The message being answered: it goes last, as the question, not into the history. */
  excludeId: string;
}

const PAGE = 500;

/** Recent turns, oldest first. Messages without text (images, events) and system notes are left out. */
export async function recentTurns(
  store: Pick<Store, 'listMessages'>,
  conversationId: string,
  opts: HistoryOptions,
): Promise<ChatTurn[]> {
  if (opts.messages <= 0 || opts.maxTokens <= 0) return [];
  // listMessages pages forward from the start; keep only a window of the newest as we go.
  const keep = opts.messages + 1;
  let window: StoredMessage[] = [];
  let after = 0;
  for (;;) {
    const page = await store.listMessages(conversationId, { afterSeq: after, limit: PAGE });
    window = [...window, ...page].slice(-keep * 2);
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.seq;
  }
  const turns: ChatTurn[] = [];
  for (const m of window) {
    if (m.id === opts.excludeId || !m.text || m.author === 'system') continue;
    turns.push({ role: m.direction === 'in' ? 'user' : 'assistant', text: m.text });
  }
  const recent = turns.slice(-opts.messages);
  let total = recent.reduce((n, t) => n + estimateTokens(t.text), 0);
  while (recent.length > 0 && total > opts.maxTokens) total -= estimateTokens(recent.shift()!.text);
  return recent;
}

/**
 * A tokenizer-free estimate: one token per Han/kana/hangul character, one per ~4 other
 * characters. Close enough for a budget; the model's own limit is far above it.
 */
export function estimateTokens(text: string): number {
  const wide = text.match(/[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]/g)?.length ?? 0;
  return wide + Math.ceil((text.length - wide) / 4);
}
