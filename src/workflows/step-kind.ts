/**
 * The step-kind registry: YAML key → implementation. The engine knows no kind by name; the hub
 * builds a registry (defaults + its own) and hands it to the loader and the runner.
 */
import { handoffKind } from './kinds/handoff.ts';
import { replyKind } from './kinds/reply.ts';
import { setKind } from './kinds/set.ts';
import { switchKind } from './kinds/switch.ts';
import { waitKind } from './kinds/wait.ts';
import { RESERVED_STEP_KEYS } from './step-schema.ts';
import type { StepKind } from './types.ts';

export type { StepContext, StepKind } from './types.ts';

export class StepKindRegistry {
  readonly #kinds = new Map<string, StepKind<never, unknown>>();

  /** Add a kind. Throws on a duplicate or a reserved key (`id`, `when`, `timeout`, `fallback`). */
  register<I, O>(kind: StepKind<I, O>): this {
    if (!/^[a-z][a-z0-9_]*$/.test(kind.kind))
      throw new Error(`step kind name "${kind.kind}" must be lower-case letters, digits, _`);
    if (RESERVED_STEP_KEYS.has(kind.kind))
      throw new Error(`"${kind.kind}" is a reserved step key, not a kind name`);
    if (this.#kinds.has(kind.kind)) throw new Error(`step kind "${kind.kind}" is already registered`);
    this.#kinds.set(kind.kind, kind as unknown as StepKind<never, unknown>);
    return this;
  }

  get(kind: string): StepKind<unknown, unknown> | undefined {
    return this.#kinds.get(kind) as StepKind<unknown, unknown> | undefined;
  }

  has(kind: string): boolean {
    return this.#kinds.has(kind);
  }

  /** Registered kind names, sorted (as listed in "unknown step kind" errors). */
  kinds(): string[] {
    return [...this.#kinds.keys()].sort();
  }
}

/** A registry with the built-in kinds: reply, handoff, set, switch, wait. */
export function defaultStepKinds(): StepKindRegistry {
  return new StepKindRegistry()
    .register(replyKind)
    .register(handoffKind)
    .register(setKind)
    .register(switchKind)
    .register(waitKind);
}
