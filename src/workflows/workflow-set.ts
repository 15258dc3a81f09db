/**
 * An immutable set of workflows in matching order. A new set is built whole and swapped in on
 * reload, so a message never sees a half-loaded catalog.
 */
import type { InboundMessage } from '../messages.ts';
import type { Conversation } from '../store/types.ts';
import { MatchInput } from './match.ts';
import type { Workflow } from './workflow.ts';

export class WorkflowSet {
  readonly #ordered: readonly Workflow[];
  readonly #byName: ReadonlyMap<string, Workflow>;

  /** Orders `workflows`: non-default by priority (higher first), then file name; the default last. */
  constructor(workflows: Iterable<Workflow> = []) {
    const all = [...workflows];
    const byFile = (a: Workflow, b: Workflow) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
    const regular = all.filter((w) => !w.isDefault).sort((a, b) => b.priority - a.priority || byFile(a, b));
    const defaults = all.filter((w) => w.isDefault).sort(byFile);
    this.#ordered = Object.freeze([...regular, ...defaults]);
    this.#byName = new Map(all.map((w) => [w.name, w]));
  }

  /** The first workflow (in matching order) whose `match:` accepts the message; null when none does. */
  match(message: InboundMessage, conversation: Conversation): Workflow | null {
    const input = new MatchInput(message, conversation);
    for (const w of this.#ordered) if (w.matches(input)) return w;
    return null;
  }

  /** All workflows in matching order. */
  list(): Workflow[] {
    return [...this.#ordered];
  }

  get(name: string): Workflow | undefined {
    return this.#byName.get(name);
  }

  get size(): number {
    return this.#ordered.length;
  }
}
