/**
 * Repeated low confidence: a conversation whose bot keeps answering with low confidence is
 * handed to a human. See `handoff.lowConfidence` in src/config/hub-schema.ts for the rule.
 */

/** The confidence of one run: `vars.confidence`, else the last step output carrying a score. */
export function runConfidence(run: {
  vars: Record<string, unknown>;
  steps: { output?: unknown }[];
}): number | undefined {
  const own = toNumber(run.vars.confidence);
  if (own !== undefined) return own;
  for (let i = run.steps.length - 1; i >= 0; i--) {
    const output = run.steps[i]?.output;
    if (!output || typeof output !== 'object') continue;
    const o = output as { confidence?: unknown; score?: unknown; top?: { score?: unknown } | null };
    const score = toNumber(o.confidence) ?? toNumber(o.score) ?? toNumber(o.top?.score);
    if (score !== undefined) return score;
  }
  return undefined;
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** What is kept in `conversation.meta.lowConfidence` between runs. */
export interface ConfidenceStreak {
  count: number;
  /** The inbound message last counted: a re-run of the same job does not count twice. */
  lastMessageId: string | null;
}

/** The streak after one more run; `handoff` when it reached `runs`. */
export function nextStreak(
  previous: ConfidenceStreak | undefined,
  messageId: string,
  confidence: number | undefined,
  rule: { runs: number; threshold: number },
): { streak: ConfidenceStreak; handoff: boolean } {
  const prev = previous ?? { count: 0, lastMessageId: null };
  if (prev.lastMessageId === messageId) return { streak: prev, handoff: false };
  const low = confidence !== undefined && confidence < rule.threshold;
  const count = low ? prev.count + 1 : 0;
  const handoff = rule.runs > 0 && count >= rule.runs;
  return { streak: { count: handoff ? 0 : count, lastMessageId: messageId }, handoff };
}
