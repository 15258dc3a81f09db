/**
 * `http`: GET and POST JSON with templated URL, headers (secrets from hub.yaml) and body, parts of
 * the answer picked by path, a timeout that aborts the request, garbage reported clearly, and no
 * POST in a dry run. Against a fake JSON API on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourcesConfig } from '../../src/ai/sources-config.ts';
import { formatConfigIssue } from '../../src/errors.ts';
import { loadWorkflowFiles } from '../../src/workflows/index.ts';
import { aiKinds, runWith, sourcesOf, testRuntime } from '../ai/helpers.ts';
import { FakeHttpApi } from '../fakes/http-api.ts';
import { tempDir } from './helpers.ts';

describe('http', () => {
  let api: FakeHttpApi;
  let sources: SourcesConfig;

  beforeAll(async () => {
    api = await new FakeHttpApi()
      .route('GET /parcels/SF123', {
        json: { data: { status: 'in transit', eta: '2024-11-22', events: [{ at: 'Hangzhou' }] } },
      })
      .route('POST /tickets', { status: 201, json: (body: unknown) => ({ id: 'T-1', echo: body }) })
      .route('GET /html', { raw: { type: 'text/html', text: '<h1>Maintenance</h1>' } })
      .route('GET /slow', { json: { late: true }, delayMs: 2000 })
      .route('GET /broken', { status: 503, json: { error: 'try later' } })
      .start();
    sources = sourcesOf('http:\n  secrets: { logistics: tok-123 }\n');
  });
  afterAll(() => api?.close());

  const run = (step: string, opts: Parameters<typeof runWith>[4] = {}) =>
    runWith(
      testRuntime(sources).runtime,
      aiKinds(sources),
      `steps:\n  - id: call\n${step}\n    fallback: { set: { fell_back: true } }\n`,
      '退货 SF123',
      opts,
    );

  it('GET: templated URL and secret header; select and map pick parts of the answer', async () => {
    const r = await run(`    http:
      url: "${api.url}/parcels/{{ message.text | split: ' ' | last }}"
      headers: { authorization: "Bearer {{ secrets.logistics }}" }
      select: data.events[0].at
      map: { status: data.status, eta: "$.data.eta", nothing: data.nope }`);
    expect(r.steps[0]).toMatchObject({
      status: 'ok',
      output: {
        status: 200,
        value: 'Hangzhou',
        fields: { status: 'in transit', eta: '2024-11-22', nothing: null },
      },
    });
    expect(api.calls.at(-1)).toMatchObject({ method: 'GET', path: '/parcels/SF123' });
    expect(api.calls.at(-1)?.headers.authorization).toBe('Bearer tok-123');
  });

  it('POST: a JSON body whose lone {{ }} values keep their type; not sent in a dry run', async () => {
    const step = `    http:
      method: POST
      url: "${api.url}/tickets"
      body: { text: "{{ message.text }}", sender: "{{ message.sender.id }}", urgent: true, len: "{{ message.text.size }}" }
      expect: 201`;
    const r = await run(step);
    expect(r.steps[0]?.output).toMatchObject({
      status: 201,
      body: { id: 'T-1', echo: { text: '退货 SF123', sender: 'u1', urgent: true, len: 8 } },
    });
    const before = api.calls.length;
    const dry = await run(step, { dryRun: true });
    expect(dry.steps[0]?.output).toEqual({ source: 'http', status: 0, body: null, dryRun: true });
    expect(api.calls.length).toBe(before);
  });

  it('a non-JSON answer, an error status and a slow API fail the step clearly; the fallback runs', async () => {
    const html = await run(`    http: { url: "${api.url}/html" }`);
    expect(html.steps[0]).toMatchObject({ status: 'fallback' });
    expect(html.steps[0]?.error).toMatch(
      /^http:127\.0\.0\.1:\d+: answered with non-JSON \(text\/html\): "<h1>Maintenance<\/h1>"$/,
    );

    const broken = await run(`    http: { url: "${api.url}/broken" }`);
    expect(broken.steps[0]?.error).toMatch(/answered HTTP 503: try later$/);
    expect(api.calls.filter((c) => c.path === '/broken')).toHaveLength(2); // a GET is retried once

    const started = performance.now();
    const slow = await run(`    http: { url: "${api.url}/slow" }\n    timeout: 100ms`);
    expect(performance.now() - started).toBeLessThan(600);
    expect(slow.steps[0]).toMatchObject({ status: 'fallback', error: 'timed out after 100ms' });
    await new Promise((r) => setTimeout(r, 50));
    expect(api.calls.filter((c) => c.path === '/slow').at(-1)?.aborted).toBe(true);
  });

  it('load errors: a GET with a body, a bad path expression', async () => {
    const t = tempDir({
      'w.yaml': `steps:\n  - http: { url: "http://x/", body: { a: 1 } }\n  - http: { url: "http://x/", select: "a..b" }\n`,
    });
    try {
      const { issues } = await loadWorkflowFiles([t.path('w.yaml')], aiKinds());
      expect(issues.map(formatConfigIssue)).toEqual([
        `${t.path('w.yaml')}:2:37 a GET request has no body`,
        `${t.path('w.yaml')}:3:39 invalid path "a..b": empty key at character 2`,
      ]);
    } finally {
      t.cleanup();
    }
  });
});
