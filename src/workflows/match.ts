/**
 * The `match:` block of a workflow: which messages it answers. Compiled at load (keyword lists
 * normalized, regexes built, conditions parsed); per message only cheap tests run, and the
 * normalized text is computed once per message for all workflows (see `MatchInput`).
 */

import type { Context } from 'liquidjs';
import { z } from 'zod';
import { type InboundMessage, type MessageKind, messageKindSchema } from '../messages.ts';
import type { Conversation } from '../store/types.ts';
import { type CompiledExpression, contextOf, type TemplateScope } from './liquid.ts';
import { compileRegex, expressionSchema, forwardIssues, issueParams, parseNested } from './schema-helpers.ts';

/** One condition of `any:` / `all:` (or written directly under `match:`). */
export type Condition =
  | { type: 'keywords'; keywords: readonly string[] }
  | { type: 'regex'; regex: RegExp }
  | { type: 'command'; command: string }
  | { type: 'event'; event: string }
  | { type: 'when'; when: CompiledExpression };

export const CONDITION_FORMS = ['command', 'event', 'keywords', 'regex', 'when'] as const;

/** Case- and width-insensitive text: `ＨＥＬＬＯ` and `Hello` both become `hello`; CJK is untouched. */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

const nonEmpty = z
  .string()
  .trim()
  .refine((s) => s.length > 0, { message: 'may not be empty' });
const keywordsSchema = z
  .union([nonEmpty, z.array(nonEmpty).min(1)])
  .transform((v) => Object.freeze((Array.isArray(v) ? v : [v]).map(normalizeText)));
const commandSchema = nonEmpty.refine((s) => !/\s/.test(s), {
  message: 'a command is one word, e.g. /start',
  params: issueParams(),
});

/** One condition map, exactly one form key (plus `flags` with `regex`). */
export const conditionSchema = z.unknown().transform((raw, ctx): Condition => {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    ctx.addIssue({
      code: 'custom',
      message: `a condition is a map with one of: ${CONDITION_FORMS.join(', ')}`,
      params: issueParams(),
    });
    return z.NEVER;
  }
  const obj = raw as Record<string, unknown>;
  const keys = Object.keys(obj);
  const bad = keys.filter((k) => !(CONDITION_FORMS as readonly string[]).includes(k) && k !== 'flags');
  for (const k of bad)
    ctx.addIssue({
      code: 'custom',
      message: `unknown condition "${k}" (known: ${CONDITION_FORMS.join(', ')})`,
      path: [k],
      params: issueParams({ yamlKey: true }),
    });
  const forms = keys.filter((k) => (CONDITION_FORMS as readonly string[]).includes(k));
  if (bad.length > 0) return z.NEVER;
  if (forms.length !== 1) {
    const message =
      forms.length === 0
        ? `a condition needs one of: ${CONDITION_FORMS.join(', ')}`
        : `one condition per entry, found ${forms.map((f) => `"${f}"`).join(' and ')} (list them separately under any:/all:)`;
    ctx.addIssue({
      code: 'custom',
      message,
      path: forms.length > 1 ? [forms[1]!] : [],
      params: issueParams({ yamlKey: forms.length > 1 }),
    });
    return z.NEVER;
  }
  const form = forms[0] as (typeof CONDITION_FORMS)[number];
  if (obj.flags !== undefined && form !== 'regex') {
    ctx.addIssue({
      code: 'custom',
      message: '"flags" only goes with "regex"',
      path: ['flags'],
      params: issueParams({ yamlKey: true }),
    });
    return z.NEVER;
  }
  return compileCondition(ctx, form, obj) ?? z.NEVER;
});

function compileCondition(
  ctx: z.core.$RefinementCtx,
  form: (typeof CONDITION_FORMS)[number],
  obj: Record<string, unknown>,
): Condition | undefined {
  switch (form) {
    case 'keywords': {
      const keywords = parseNested(ctx, keywordsSchema, obj.keywords, ['keywords']);
      return keywords && { type: 'keywords', keywords };
    }
    case 'command': {
      const command = parseNested(ctx, commandSchema, obj.command, ['command']);
      return command === undefined ? undefined : { type: 'command', command: normalizeText(command) };
    }
    case 'event': {
      const event = parseNested(ctx, nonEmpty, obj.event, ['event']);
      return event === undefined ? undefined : { type: 'event', event };
    }
    case 'when': {
      const when = parseNested(ctx, expressionSchema, obj.when, ['when']);
      return when && { type: 'when', when };
    }
    case 'regex': {
      const source = parseNested(ctx, z.string().min(1), obj.regex, ['regex']);
      const flags = obj.flags === undefined ? undefined : parseNested(ctx, z.string(), obj.flags, ['flags']);
      if (source === undefined || (obj.flags !== undefined && flags === undefined)) return undefined;
      const regex = compileRegex(source, flags, ctx, ['regex']);
      return regex && { type: 'regex', regex };
    }
  }
}

/** A compiled `match:` block. */
export interface CompiledMatch {
  readonly channels?: ReadonlySet<string>;
  readonly kinds?: ReadonlySet<MessageKind>;
  readonly all: readonly Condition[];
  readonly any: readonly Condition[];
}

const matchShape = z.strictObject({
  channels: z.array(nonEmpty).min(1).optional(),
  kinds: z.array(messageKindSchema).min(1).optional(),
  any: z.array(conditionSchema).min(1).optional(),
  all: z.array(conditionSchema).min(1).optional(),
});

/** `match:`: `channels`, `kinds`, `any`, `all`, and conditions written directly (each one must hold). */
export const matchSchema = z.unknown().transform((raw, ctx): CompiledMatch => {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    ctx.addIssue({
      code: 'custom',
      message: 'match must be a map (channels, kinds, any, all, or a condition)',
      params: issueParams(),
    });
    return z.NEVER;
  }
  const obj = raw as Record<string, unknown>;
  const direct: Condition[] = [];
  const rest: Record<string, unknown> = {};
  let ok = true;
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'flags') continue;
    if (!(CONDITION_FORMS as readonly string[]).includes(key)) {
      rest[key] = value;
      continue;
    }
    const cond = {
      [key]: value,
      ...(key === 'regex' && obj.flags !== undefined ? { flags: obj.flags } : {}),
    };
    const parsed = parseNested(ctx, conditionSchema, cond, []);
    if (parsed) direct.push(parsed);
    else ok = false;
  }
  if (obj.flags !== undefined && obj.regex === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: '"flags" only goes with "regex"',
      path: ['flags'],
      params: issueParams({ yamlKey: true }),
    });
    ok = false;
  }
  const r = matchShape.safeParse(rest);
  if (!r.success) {
    forwardIssues(ctx, r.error.issues, [], rest);
    return z.NEVER;
  }
  if (!ok) return z.NEVER;
  return Object.freeze({
    channels: r.data.channels && new Set(r.data.channels),
    kinds: r.data.kinds && new Set(r.data.kinds),
    all: cheapFirst([...direct, ...(r.data.all ?? [])]),
    any: cheapFirst(r.data.any ?? []),
  });
});

/** Conditions have no side effects, so they can be tried cheapest first: Liquid `when:` last. */
function cheapFirst(conditions: Condition[]): readonly Condition[] {
  return Object.freeze([
    ...conditions.filter((c) => c.type !== 'when'),
    ...conditions.filter((c) => c.type === 'when'),
  ]);
}

/** One message as seen by every workflow's match: derived values are computed at most once. */
export class MatchInput {
  #norm: string | undefined;
  #scope: TemplateScope | undefined;
  #context: Context | undefined;

  constructor(
    readonly message: InboundMessage,
    readonly conversation: Conversation,
  ) {}

  get normalized(): string {
    this.#norm ??= normalizeText(this.message.text ?? '');
    return this.#norm;
  }

  get scope(): TemplateScope {
    this.#scope ??= {
      message: this.message,
      conversation: this.conversation,
      vars: {},
      steps: {},
      now: new Date().toISOString(),
    };
    return this.#scope;
  }

  /** One Liquid context for every `when:` of this message (building one costs more than most conditions). */
  get context(): Context {
    this.#context ??= contextOf(this.scope);
    return this.#context;
  }
}

export function testMatch(match: CompiledMatch, input: MatchInput): boolean {
  if (match.channels && !match.channels.has(input.message.channel)) return false;
  if (match.kinds && !match.kinds.has(input.message.kind)) return false;
  for (const c of match.all) if (!testCondition(c, input)) return false;
  return match.any.length === 0 || match.any.some((c) => testCondition(c, input));
}

export function testCondition(c: Condition, input: MatchInput): boolean {
  const text = input.message.text;
  switch (c.type) {
    case 'keywords':
      return text !== undefined && c.keywords.some((k) => input.normalized.includes(k));
    case 'regex':
      return text !== undefined && c.regex.test(text);
    case 'command': {
      const t = input.normalized.trimStart();
      if (!t.startsWith(c.command)) return false;
      const next = t.charAt(c.command.length);
      // `/start`, `/start payload`, and Telegram's `/start@my_bot`, but not `/starting`.
      return next === '' || next === '@' || /\s/.test(next);
    }
    case 'event':
      return input.message.kind === 'event' && input.message.event === c.event;
    case 'when':
      try {
        return c.when.test(input.context);
      } catch {
        // A condition that cannot be evaluated for this message (e.g. a render limit) does not match.
        return false;
      }
  }
}
