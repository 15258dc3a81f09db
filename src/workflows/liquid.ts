/**
 * The one template/expression engine of workflows: LiquidJS, configured for untrusted-ish config
 * running per message. Everything is compiled once at load; a message only renders or evaluates.
 *
 * - `strictFilters`: a typo'd filter is a load error, not silently skipped output.
 * - `ownPropertyOnly`: templates cannot reach prototype properties of the scope.
 * - no file system: `include`/`render`/`layout` are removed, so using them is a load error.
 * - parse/render/memory limits: a `{% for i in (1..100000000) %}` cannot stall a worker.
 * - no HTML escaping: replies go to IM channels as plain text or markdown (use `| escape` if needed).
 */
import {
  Context,
  isTruthy,
  Liquid,
  Output,
  type Template,
  Tokenizer,
  TypeGuards,
  toValueSync,
  Value,
} from 'liquidjs';

/** What templates and conditions see. */
export interface TemplateScope {
  message: unknown;
  conversation: unknown;
  vars: Record<string, unknown>;
  steps: Record<string, unknown>;
  /** ISO timestamp of the moment the scope was built (`{{ now | date: "%H:%M" }}`). */
  now: string;
}

/** The shared engine. Exposed so a step kind may register a filter at startup (before workflows load). */
export const liquid = new Liquid({
  strictFilters: true,
  ownPropertyOnly: true,
  templates: {},
  parseLimit: 100_000,
  renderLimit: 1_000,
  memoryLimit: 10_000_000,
});
for (const tag of ['include', 'render', 'layout']) delete liquid.tags[tag];

/** Regexes used by the `matches` filter, compiled once per pattern (patterns come from config, so few). */
const regexCache = new Map<string, RegExp>();

function cachedRegex(pattern: string, flags: string): RegExp {
  const key = `${flags}/${pattern}`;
  let re = regexCache.get(key);
  if (!re) {
    if (/[gy]/.test(flags)) throw new Error('matches: flags g and y are not allowed');
    re = new RegExp(pattern, flags);
    if (regexCache.size >= 1000) regexCache.clear();
    regexCache.set(key, re);
  }
  return re;
}

/**
 * `{{ message.text | matches: "[\u4e00-\u9fa5]" }}` → true when the text contains a Chinese
 * character; optional flags: `matches: "^hi", "i"`. Literal patterns are checked at load.
 */
liquid.registerFilter('matches', (value: unknown, pattern: unknown, flags?: unknown) => {
  if (value === null || value === undefined) return false;
  return cachedRegex(String(pattern), flags === undefined ? '' : String(flags)).test(String(value));
});

const QUOTED = `("(?:[^"\\\\]|\\\\.)*"|'(?:[^'\\\\]|\\\\.)*')`;
const MATCHES_CALL = new RegExp(`\\|\\s*matches\\s*:\\s*${QUOTED}(?:\\s*,\\s*${QUOTED})?`, 'g');

/** Compile the literal patterns of `matches` filters in `source`, so a bad regex is a load error. */
function checkRegexLiterals(source: string, prefix: string): void {
  for (const m of source.matchAll(MATCHES_CALL)) {
    const [, pattern, flags] = m;
    try {
      const literal = (q: string) => String(liquid.evalValueSync(q, {}));
      cachedRegex(literal(pattern!), flags ? literal(flags) : '');
    } catch (err) {
      throw new TemplateSyntaxError(
        `${prefix}: ${cleanMessage(err)}`,
        (m.index ?? 0) + m[0].indexOf(pattern!),
      );
    }
  }
}

/** A template or expression that does not compile; `offset` is where in the source string. */
export class TemplateSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'TemplateSyntaxError';
  }
}

/**
 * An evaluation context over `scope`. Expressions cannot assign, so one context may serve many
 * evaluations against the same scope (matching reuses one per message).
 */
export function contextOf(scope: TemplateScope): Context {
  return new Context(scope, liquid.options, {}, { liquid });
}

/** LiquidJS appends `, line:1, col:7` to its messages; positions are reported our own way. */
function cleanMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/, line:\d+, col:\d+$/, '');
}

function offsetOf(err: unknown): number {
  const begin = (err as { token?: { begin?: unknown } }).token?.begin;
  return typeof begin === 'number' ? begin : 0;
}

/** A compiled text template (`"Hello {{ message.sender.name | default: 'there' }}!"`). */
export class CompiledTemplate {
  /** Parsed Liquid, or undefined when the source has no markup (rendered as-is, for free). */
  readonly #tpl: Template[] | undefined;
  /** Set when the whole template is one `{{ … }}`: `evaluate` then keeps the value's type. */
  readonly #single: Value | undefined;

  constructor(readonly source: string) {
    if (!source.includes('{{') && !source.includes('{%')) return;
    try {
      this.#tpl = liquid.parse(source);
    } catch (err) {
      throw new TemplateSyntaxError(`invalid template: ${cleanMessage(err)}`, offsetOf(err));
    }
    checkRegexLiterals(source, 'invalid template');
    const only = this.#tpl.length === 1 ? this.#tpl[0] : undefined;
    if (only instanceof Output) this.#single = only.value;
  }

  /** The rendered text. Throws on a render error (e.g. a limit hit), which fails the step. */
  render(scope: TemplateScope): string {
    if (!this.#tpl) return this.source;
    try {
      return String(liquid.renderSync(this.#tpl, scope) ?? '');
    } catch (err) {
      throw new Error(`template error: ${cleanMessage(err)}`);
    }
  }

  /** Like `render`, but a template that is a single `{{ expr }}` yields the value itself (number, object…). */
  evaluate(scope: TemplateScope): unknown {
    if (!this.#single) return this.render(scope);
    try {
      return toValueSync(this.#single.value(contextOf(scope)));
    } catch (err) {
      throw new Error(`template error: ${cleanMessage(err)}`);
    }
  }

  /** True when the template has no markup (its text is constant). */
  get isConstant(): boolean {
    return this.#tpl === undefined;
  }

  toJSON(): string {
    return this.source;
  }
}

/** A compiled condition (`steps.kb.top.score < 0.3`, `message.text contains "退款"`). */
export class CompiledExpression {
  readonly #value: Value;

  constructor(readonly source: string) {
    validateExpression(source);
    checkRegexLiterals(source, 'invalid condition');
    try {
      this.#value = new Value(source, liquid);
    } catch (err) {
      throw new TemplateSyntaxError(`invalid condition: ${cleanMessage(err)}`, offsetOf(err));
    }
  }

  /** The expression's value (filters applied). */
  value(scope: TemplateScope | Context): unknown {
    const ctx = scope instanceof Context ? scope : contextOf(scope);
    try {
      return toValueSync(this.#value.value(ctx));
    } catch (err) {
      throw new Error(`condition error in "${this.source}": ${cleanMessage(err)}`);
    }
  }

  /** Liquid truthiness: only `false` and `nil` are false (an empty string is true; test `!= blank`). */
  test(scope: TemplateScope | Context): boolean {
    const ctx = scope instanceof Context ? scope : contextOf(scope);
    return isTruthy(this.value(ctx), ctx);
  }

  toJSON(): string {
    return this.source;
  }
}

/**
 * LiquidJS's expression reader is lenient (`a ==`, `a b`, an unclosed quote all "parse"), so a
 * condition is checked token by token here: operand (operator operand)*, `not` before an operand.
 */
function validateExpression(source: string): void {
  if (source.trim() === '') throw new TemplateSyntaxError('invalid condition: it is empty', 0);
  const tokenizer = new Tokenizer(source, liquid.options.operators);
  let expectOperand = true;
  let last = 0;
  try {
    for (const token of tokenizer.readExpressionTokens()) {
      last = token.begin;
      if (TypeGuards.isOperatorToken(token)) {
        const unary = token.operator === 'not';
        if (unary ? !expectOperand : expectOperand)
          throw new TemplateSyntaxError(
            `invalid condition: unexpected operator "${token.operator}"`,
            token.begin,
          );
        expectOperand = true;
        continue;
      }
      if (!expectOperand)
        throw new TemplateSyntaxError(
          `invalid condition: missing operator before "${token.getText()}" (use ==, !=, <, >, <=, >=, contains, and, or)`,
          token.begin,
        );
      if (TypeGuards.isQuotedToken(token)) {
        const text = token.getText();
        if (text.length < 2 || text[text.length - 1] !== text[0])
          throw new TemplateSyntaxError('invalid condition: unclosed quote', token.begin);
      }
      expectOperand = false;
    }
  } catch (err) {
    if (err instanceof TemplateSyntaxError) throw err;
    const msg = cleanMessage(err);
    if (msg === 'invalid range syntax') {
      const paren = source.lastIndexOf('(', offsetOf(err));
      throw new TemplateSyntaxError(
        'invalid condition: parentheses only make ranges like (1..5); conditions cannot be grouped',
        paren === -1 ? offsetOf(err) : paren,
      );
    }
    throw new TemplateSyntaxError(`invalid condition: ${msg}`, offsetOf(err));
  }
  if (expectOperand) throw new TemplateSyntaxError('invalid condition: it ends with an operator', last);
}
