/**
 * What the `llm` step hands the model as retrieved knowledge: the outputs of the recall steps it
 * names (`context: [dify, kb, orders]`), each cut into passages with a source id the model can
 * cite (`kb:return-request`, `orders:order_lookup#1`, `dify:refund-guide`).
 */

export interface Passage {
  /** Stable, citable id. */
  id: string;
  /** Where it came from: `kb`, `dify`, `orders`, `http`, or the step id. */
  source: string;
  text: string;
}

const MAX_PASSAGE = 2000;

/** Passages from the named steps' outputs, in the order named; steps that did not run add nothing. */
export function collectPassages(steps: Readonly<Record<string, unknown>>, ids: readonly string[]): Passage[] {
  const out: Passage[] = [];
  for (const id of ids) {
    const output = steps[id];
    if (output === undefined || output === null) continue;
    out.push(...passagesOf(id, output));
  }
  return out;
}

function passagesOf(stepId: string, output: unknown): Passage[] {
  const o = (typeof output === 'object' ? output : { value: output }) as Record<string, unknown>;
  switch (o.source) {
    case 'kb':
      return ((o.results as Record<string, unknown>[] | undefined) ?? []).map((r) => ({
        id: `kb:${String(r.id)}`,
        source: 'kb',
        text: cut(`${String(r.question ?? '')}\n${String(r.answer ?? '')}`),
      }));
    case 'dify':
      return typeof o.answer === 'string' && o.answer.trim()
        ? [{ id: `dify:${String(o.app)}`, source: 'dify', text: cut(o.answer) }]
        : [];
    case 'orders':
      return ((o.rows as unknown[] | undefined) ?? []).map((row, i) => ({
        id: `orders:${String(o.query)}#${i + 1}`,
        source: 'orders',
        text: cut(JSON.stringify(row)),
      }));
    case 'http':
      return [{ id: `http:${stepId}`, source: 'http', text: cut(JSON.stringify(o.value ?? o.body)) }];
    default:
      return [
        {
          id: stepId,
          source: stepId,
          text: cut(typeof output === 'string' ? output : JSON.stringify(output)),
        },
      ];
  }
}

function cut(text: string): string {
  return text.length > MAX_PASSAGE ? `${text.slice(0, MAX_PASSAGE)}…` : text;
}

/** Used when a step names no prompt file: answer from the passages, in the customer's language. */
export const DEFAULT_SYSTEM_PROMPT = `You are a customer-service assistant. Answer the customer's last message briefly and
politely, in the language they wrote in, using only the reference passages below. If the passages
do not contain the answer, say you will pass the question to a colleague. Never invent order data.

Reference passages:
{% for p in passages %}[{{ p.id }}] {{ p.text }}
{% else %}(none)
{% endfor %}`;
