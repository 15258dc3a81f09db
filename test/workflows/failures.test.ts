/** Failing steps, fallbacks, step and run timeouts, aborts: the run always comes back with its records. */
import { describe, expect, it } from 'vitest';
import { captureLogger, run } from './helpers.ts';

const ids = (records: { id: string; status: string }[]) => records.map((r) => `${r.id}:${r.status}`);

describe('a failing step', () => {
  it('fails the run with its message; earlier records and replies are kept; later steps do not run', async () => {
    const r = await run(
      'steps:\n  - reply: before\n  - id: lookup\n    boom: "database is down"\n  - reply: after\n',
    );
    expect(r.status).toBe('failed');
    expect(r.error).toBe('step "lookup" failed: database is down');
    expect(ids(r.steps)).toEqual(['reply-0:ok', 'lookup:failed']);
    expect(r.steps[1]?.error).toBe('database is down');
    expect(r.replies.map((x) => x.text)).toEqual(['before']);
  });

  it('with a fallback: the fallback runs instead, record status fallback, its output stands in', async () => {
    const r = await run(
      'steps:\n  - id: answer\n    boom: "llm unavailable"\n    fallback:\n      - reply: "Here is what I found."\n  - reply: "{{ steps.answer.text }}!"\n',
    );
    expect(r.status).toBe('ok');
    expect(r.steps[0]).toMatchObject({
      id: 'answer',
      status: 'fallback',
      error: 'llm unavailable',
      output: { kind: 'text', text: 'Here is what I found.' },
    });
    expect(ids(r.steps[0]!.children!)).toEqual(['answer/fallback/reply-0:ok']);
    expect(r.replies.map((x) => x.text)).toEqual(['Here is what I found.', 'Here is what I found.!']);
  });

  it('a single step is accepted as fallback; a failing fallback fails the run with both messages', async () => {
    const r = await run('steps:\n  - id: a\n    boom: first\n    fallback: { boom: second }\n');
    expect(r.status).toBe('failed');
    expect(r.steps[0]?.error).toBe('first; fallback failed: step "a/fallback/boom-0" failed: second');
    expect(r.error).toBe('step "a" failed: first; fallback failed: step "a/fallback/boom-0" failed: second');
  });

  it('a failure inside a switch branch carries the nested records up', async () => {
    const r = await run(
      'steps:\n  - id: sw\n    switch:\n      cases:\n        - when: "true"\n          steps: [ { reply: in }, { id: deep, boom: bad } ]\n',
    );
    expect(r.status).toBe('failed');
    expect(r.error).toBe('step "sw" failed: step "deep" failed: bad');
    expect(ids(r.steps)).toEqual(['sw:failed']);
    expect(ids(r.steps[0]!.children!)).toEqual(['sw/cases.0.steps/reply-0:ok', 'deep:failed']);
  });

  it('logs the failure with the workflow and step', async () => {
    const { logger, records } = captureLogger();
    await run('steps:\n  - id: lookup\n    boom: nope\n', 'x', { logger });
    expect(records).toContainEqual(
      expect.objectContaining({ workflow: 'test', step: 'lookup', err: 'nope', msg: 'step failed' }),
    );
  });
});

describe('timeouts (real timers)', () => {
  it('a step past its timeout: status timeout, its signal aborted, the run fails', async () => {
    const started = performance.now();
    const r = await run('steps:\n  - id: sleepy\n    slow: { ms: 2000 }\n    timeout: 60ms\n');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(r.status).toBe('failed');
    expect(r.error).toBe('step "sleepy" timed out after 60ms');
    expect(r.steps[0]).toMatchObject({ id: 'sleepy', status: 'timeout', error: 'timed out after 60ms' });
    expect(r.steps[0]!.ms).toBeGreaterThanOrEqual(55);
  });

  it('a step that ignores its signal is still cut off at its timeout', async () => {
    const started = performance.now();
    const r = await run('steps:\n  - slow: { ms: 600, ignoreSignal: true }\n    timeout: 50ms\n');
    expect(performance.now() - started).toBeLessThan(400);
    expect(r.steps[0]?.status).toBe('timeout');
  });

  it('the hub default step timeout applies when the step sets none', async () => {
    const r = await run('steps:\n  - slow: { ms: 2000 }\n', 'x', { stepTimeoutMs: 70 });
    expect(r.error).toBe('step "slow-0" timed out after 70ms');
  });

  it('a timeout with a fallback: the fallback answers', async () => {
    const r = await run(
      'steps:\n  - id: dify\n    slow: { ms: 2000 }\n    timeout: 50ms\n    fallback: { reply: "cached answer" }\n',
    );
    expect(r.status).toBe('ok');
    expect(r.steps[0]).toMatchObject({ status: 'fallback', error: 'timed out after 50ms' });
    expect(r.replies.map((x) => x.text)).toEqual(['cached answer']);
  });

  it('wait honours the abort signal', async () => {
    const started = performance.now();
    const r = await run('steps:\n  - wait: 5s\n    timeout: 50ms\n');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(r.steps[0]?.status).toBe('timeout');
  });

  it('the run timeout stops the run, even mid-step; no fallback runs for it', async () => {
    const started = performance.now();
    const r = await run(
      'steps:\n  - reply: first\n  - id: long\n    slow: { ms: 3000 }\n    fallback: { reply: never }\n  - reply: never\n',
      'x',
      {
        runTimeoutMs: 120,
        stepTimeoutMs: 10_000,
      },
    );
    expect(performance.now() - started).toBeLessThan(1000);
    expect(r.status).toBe('failed');
    expect(r.error).toBe('workflow run timed out after 120ms');
    expect(ids(r.steps)).toEqual(['reply-0:ok', 'long:timeout']);
    expect(r.replies.map((x) => x.text)).toEqual(['first']);
  });

  it('an aborted caller signal (worker shutdown) stops the run', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    const r = await run('steps:\n  - slow: { ms: 3000 }\n  - reply: never\n', 'x', {
      signal: controller.signal,
    });
    expect(r.status).toBe('failed');
    expect(r.error).toBe('run aborted: shutting down');
    expect(r.steps[0]?.status).toBe('failed');
  });

  it('an already-aborted signal runs nothing', async () => {
    const r = await run('steps:\n  - reply: never\n', 'x', { signal: AbortSignal.abort(new Error('gone')) });
    expect(r.status).toBe('failed');
    expect(r.replies).toEqual([]);
  });

  it('leaves no timer behind: a finished run with long timeouts does not keep the process busy', async () => {
    const before = process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
    await run('steps:\n  - reply: quick\n', 'x', { stepTimeoutMs: 60_000, runTimeoutMs: 600_000 });
    const after = process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
    expect(after).toBeLessThanOrEqual(before);
  });
});
