/**
 * One workflow file → one compiled, immutable `Workflow`, or `file:line:col` issues.
 * Cross-file rules (unique names, one default) are checked by the loader (see resolve.ts).
 */
import { basename, extname } from 'node:path';
import { z } from 'zod';
import { parseYamlWithSchema } from '../config/yaml-source.ts';
import type { ConfigIssue } from '../errors.ts';
import { type CompiledMatch, type MatchInput, matchSchema, testMatch } from './match.ts';
import { hasPath, issueParams, parseNested } from './schema-helpers.ts';
import { type KindLookup, stepsSchema, walkSteps, withLoadContext } from './step-schema.ts';
import type { StepList } from './types.ts';

/** A compiled workflow: shared by every run, never mutated. */
export class Workflow {
  /** Ids of every step, nested ones included, in document order. */
  readonly stepIds: readonly string[];

  constructor(
    readonly name: string,
    /** The file it was loaded from, as given to the loader. */
    readonly file: string,
    readonly priority: number,
    readonly isDefault: boolean,
    /** null: matches nothing, unless this is the default workflow (then: everything). */
    readonly match: CompiledMatch | null,
    readonly steps: StepList,
    readonly description?: string,
  ) {
    this.stepIds = Object.freeze([...walkSteps(steps)].map((s) => s.id));
    Object.freeze(this);
  }

  /** Does this workflow's `match:` accept the message? (The default workflow accepts all unless it has a `match:`.) */
  matches(input: MatchInput): boolean {
    if (!this.match) return this.isDefault;
    return testMatch(this.match, input);
  }
}

const fileShape = z.strictObject({
  name: z
    .string()
    .trim()
    .refine((s) => s.length > 0, { message: 'name may not be empty', params: issueParams() })
    .optional(),
  description: z.string().optional(),
  priority: z.number().int().default(0),
  match: matchSchema.optional(),
  default: z.boolean().default(false),
  steps: stepsSchema,
});

type FileValue = z.output<typeof fileShape>;

/** Schema of a workflow file, parsing steps against `kinds`. */
export function workflowFileSchema(kinds: KindLookup) {
  return z.unknown().transform((raw, ctx): FileValue => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      ctx.addIssue({
        code: 'custom',
        message: 'a workflow file is a map with at least "steps"',
        params: issueParams(),
      });
      return z.NEVER;
    }
    const value = withLoadContext(kinds, raw, () => parseNested(ctx, fileShape, raw, []));
    if (!value) return z.NEVER;
    const seen = new Map<string, readonly (string | number)[]>();
    for (const step of walkSteps(value.steps)) {
      const first = seen.get(step.id);
      if (!first) {
        seen.set(step.id, step.path);
        continue;
      }
      const explicit = hasPath(raw, [...step.path, 'id']);
      ctx.addIssue({
        code: 'custom',
        message: `duplicate step id "${step.id}" (already used by the step at ${first.join('.')})`,
        path: explicit ? [...step.path, 'id'] : [...step.path],
        params: issueParams(),
      });
    }
    return value;
  });
}

/** Position of something in a file, for issues raised after parsing (duplicate names…). */
export interface FilePosition {
  line: number;
  col: number;
}

export type CompiledFile =
  | { ok: true; workflow: Workflow; namePos: FilePosition; defaultPos: FilePosition }
  | { ok: false; issues: ConfigIssue[] };

/** Compile one workflow file's text. Never throws for bad content. */
export function compileWorkflowFile(file: string, text: string, kinds: KindLookup): CompiledFile {
  const parsed = parseYamlWithSchema(file, text, workflowFileSchema(kinds));
  if (!parsed.ok) return { ok: false, issues: parsed.issues };
  const v = parsed.value;
  const posOf = (key: string): FilePosition => {
    const node = parsed.doc.get(key, true) as { range?: [number, number, number] } | undefined;
    return offsetToPosition(text, node?.range?.[0] ?? 0);
  };
  const name = v.name ?? basename(file, extname(file));
  const workflow = new Workflow(name, file, v.priority, v.default, v.match ?? null, v.steps, v.description);
  return { ok: true, workflow, namePos: posOf('name'), defaultPos: posOf('default') };
}

/** 1-based line and column of a character offset (same convention as the YAML parser's). */
export function offsetToPosition(text: string, offset: number): FilePosition {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1 };
}
