/**
 * `http`: call a JSON API. GET or POST, templated URL, headers and body (`{{ secrets.name }}`
 * reads `sources.http.secrets`), a per-step `timeout`, and parts of the answer picked by path
 * (`select: data.items[0]`, `map: { eta: data.eta }`), never by evaluating code.
 *
 * ```yaml
 * - id: shipment
 *   http:
 *     url: "https://logistics.example.com/v1/parcels/{{ steps.orders.row.tracking_no }}"
 *     headers: { authorization: "Bearer {{ secrets.logistics_token }}" }
 *     map: { status: data.status, eta: data.eta }
 *   timeout: 2s
 *   fallback: { set: { shipment_unknown: true } }
 * ```
 *
 * Output: `{ status, body, value?, fields? }`. GETs are retried once on a transient failure;
 * POSTs never (not idempotent) and are skipped in a dry run.
 */
import { z } from 'zod';
import { requestJson } from '../../ai/http-json.ts';
import { getPath, type PathSegment, parsePath } from '../../ai/json-path.ts';
import { aiRuntimeOf } from '../../ai/runtime.ts';
import {
  compileTemplateValue,
  renderTemplateValue,
  renderWith,
  type TemplateValue,
} from '../template-value.ts';
import { resolveCallSettings } from '../../resilience/config.ts';
import { SourceError } from '../../resilience/errors.ts';
import type { CompiledTemplate } from '../liquid.ts';
import { issueParams, templateSchema } from '../schema-helpers.ts';
import type { StepKind } from '../types.ts';

export interface HttpInput {
  method: 'GET' | 'POST';
  url: CompiledTemplate;
  headers: Record<string, CompiledTemplate>;
  body?: TemplateValue;
  expect?: number;
  select?: PathSegment[];
  map?: Record<string, PathSegment[]>;
}

export interface HttpOutput {
  source: 'http';
  status: number;
  body: unknown;
  value?: unknown;
  fields?: Record<string, unknown>;
  dryRun?: true;
}

const pathSchema = z.string().transform((s, ctx): PathSegment[] => {
  try {
    return parsePath(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message, params: issueParams() });
    return z.NEVER;
  }
});

const input = z
  .strictObject({
    method: z.enum(['GET', 'POST']).default('GET'),
    url: templateSchema,
    headers: z.record(z.string(), templateSchema).default({}),
    body: z.unknown().optional(),
    expect: z.number().int().min(100).max(599).optional(),
    select: pathSchema.optional(),
    map: z.record(z.string(), pathSchema).optional(),
  })
  .transform((v, ctx): HttpInput => {
    if (v.method === 'GET' && v.body !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'a GET request has no body',
        path: ['body'],
        params: issueParams(),
      });
      return z.NEVER;
    }
    const body = v.body === undefined ? undefined : compileTemplateValue(ctx, v.body, ['body']);
    if (v.body !== undefined && body === undefined) return z.NEVER;
    const { body: _raw, ...rest } = v;
    return { ...rest, ...(body !== undefined ? { body } : {}) } as HttpInput;
  });

export const httpKind: StepKind<HttpInput, HttpOutput> = {
  kind: 'http',
  description: 'call a JSON API (GET/POST); pick parts of the answer by path',
  input,
  async run(ctx, input, signal) {
    const rt = aiRuntimeOf(ctx);
    const cfg = rt.sources.http;
    const extra = { secrets: cfg.secrets };
    const url = renderWith(ctx, input.url, extra);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`http: not a URL: ${url}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new Error(`http: not an http(s) URL: ${url}`);
    if (ctx.dryRun && input.method !== 'GET') {
      ctx.logger.info({ url: parsed.origin + parsed.pathname }, 'dry run: POST not sent');
      return { source: 'http', status: 0, body: null, dryRun: true };
    }
    const headers = Object.fromEntries(
      Object.entries(input.headers).map(([k, t]) => [k, renderWith(ctx, t, extra)]),
    );
    const body = input.body === undefined ? undefined : renderTemplateValue(ctx, input.body, extra);
    const target = `http:${parsed.host}`;
    const settings = resolveCallSettings(
      { timeoutMs: 5000, retries: 1, backoffMs: 200, concurrency: 32, queue: 128 },
      cfg,
      {
        retries: input.method === 'GET' ? undefined : 0,
      },
    );
    const res = await rt.resilience.call(
      target,
      settings,
      (s) => requestJson({ target, url, method: input.method, headers, body, signal: s }),
      signal,
    );
    if (input.expect !== undefined && res.status !== input.expect)
      throw new SourceError(target, 'http_status', `answered ${res.status}, expected ${input.expect}`, {
        remoteStatus: res.status,
      });
    const out: HttpOutput = { source: 'http', status: res.status, body: res.body };
    if (input.select) out.value = getPath(res.body, input.select);
    if (input.map)
      out.fields = Object.fromEntries(
        Object.entries(input.map).map(([k, p]) => [k, getPath(res.body, p) ?? null]),
      );
    return out;
  },
};
