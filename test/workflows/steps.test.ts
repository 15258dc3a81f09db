/** The built-in step kinds, templates, guards and nesting, through real runs. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_HANDOFF_REPLY, type StepRecord } from '../../src/workflows/index.ts';
import { run } from './helpers.ts';

const texts = (r: { replies: { text: string }[] }) => r.replies.map((x) => x.text);
const shape = (records: StepRecord[]): unknown[] =>
  records.map((r) => (r.children ? { [`${r.id}:${r.status}`]: shape(r.children) } : `${r.id}:${r.status}`));

describe('reply', () => {
  it('shorthand text and the object form with markdown; outputs and records', async () => {
    const r = await run(
      'steps:\n  - reply: "Hello {{ message.sender.name | default: \'there\' }}!"\n  - id: md\n    reply: { text: "**{{ message.text | upcase }}**", kind: markdown }\n',
      'hi',
    );
    expect(r.status).toBe('ok');
    expect(r.workflow).toBe('test');
    expect(r.replies).toEqual([
      { kind: 'text', text: 'Hello Ann!' },
      { kind: 'markdown', text: '**HI**' },
    ]);
    expect(r.steps.map((s) => [s.id, s.kind, s.status])).toEqual([
      ['reply-0', 'reply', 'ok'],
      ['md', 'reply', 'ok'],
    ]);
    expect(r.steps[1]?.output).toEqual({ kind: 'markdown', text: '**HI**' });
    expect(r.steps.every((s) => typeof s.ms === 'number' && s.ms >= 0)).toBe(true);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('default filter when the sender has no name; attachments', async () => {
    const r = await run(
      'steps:\n  - reply: "Hello {{ message.sender.name | default: \'there\' }}!"\n  - reply:\n      text: see file\n      attachments: [ { url: "https://x.test/{{ message.sender.id }}.png", mime: image/png } ]\n',
      'hi',
      { message: { sender: { id: 'u9' } } },
    );
    expect(r.replies).toEqual([
      { kind: 'text', text: 'Hello there!' },
      { kind: 'text', text: 'see file', attachments: [{ url: 'https://x.test/u9.png', mime: 'image/png' }] },
    ]);
  });

  it('an empty rendered text fails the step (so a fallback can answer)', async () => {
    const r = await run('steps:\n  - reply: "{{ vars.nothing }}"\n    fallback: { reply: "sorry" }\n');
    expect(r.status).toBe('ok');
    expect(texts(r)).toEqual(['sorry']);
    expect(r.steps[0]).toMatchObject({
      id: 'reply-0',
      status: 'fallback',
      error: 'reply text is empty after rendering',
    });
  });
});

describe('templates', () => {
  it('message text is data, never template code', async () => {
    const r = await run(
      'steps:\n  - set: { secret: s3cr3t }\n  - reply: "you said: {{ message.text }}"\n',
      '{{ vars.secret }} {% raw %}',
    );
    expect(texts(r)).toEqual(['you said: {{ vars.secret }} {% raw %}']);
  });

  it('no HTML escaping by default (IM is plain text); | escape when wanted; filters work', async () => {
    const r = await run(
      'steps:\n  - reply: "{{ message.text }} | {{ message.text | escape }} | {{ message.text | size }} | {{ message.text | truncate: 4 }}"\n',
      'a<b>&',
    );
    expect(texts(r)).toEqual(['a<b>& | a&lt;b&gt;&amp; | 5 | a...']);
  });

  it('scope: conversation, steps outputs, vars and now', async () => {
    const r = await run(
      'steps:\n  - id: first\n    reply: one\n  - reply: "{{ conversation.state }} {{ steps.first.text }} {{ now | date: \'%Y\' }}"\n',
      'x',
      { conversation: { state: 'bot' } },
    );
    expect(texts(r)[1]).toBe(`bot one ${new Date().getFullYear()}`);
  });

  it('prototype properties are out of reach', async () => {
    const r = await run(
      'steps:\n  - reply: "[{{ message.constructor }}{{ vars.__proto__ }}{{ message.text.constructor.name }}]"\n',
      'x',
    );
    expect(texts(r)).toEqual(['[]']);
  });

  it('a runaway loop hits the render limit and fails the step instead of stalling the worker', async () => {
    const r = await run('steps:\n  - reply: "{% for i in (1..100000000) %}x{% endfor %}"\n');
    expect(r.status).toBe('failed');
    expect(r.error).toBe('step "reply-0" failed: template error: memory alloc limit exceeded');
  });
});

describe('set', () => {
  it('assigns in order; a lone {{ }} keeps its type; nested values', async () => {
    const r = await run(
      'steps:\n  - set:\n      n: "{{ 2 | plus: 3 }}"\n      label: "n={{ vars.n }}"\n      flag: true\n      list: [a, "{{ vars.n }}"]\n      obj: { up: "{{ message.text | upcase }}" }\n  - reply: "{% if vars.n == 5 %}typed{% endif %} {{ vars.label }} {{ vars.obj.up }}"\n',
      'hey',
    );
    expect(r.vars).toEqual({ n: 5, label: 'n=5', flag: true, list: ['a', 5], obj: { up: 'HEY' } });
    expect(r.steps[0]?.output).toEqual(r.vars);
    expect(texts(r)).toEqual(['typed n=5 HEY']);
  });
});

describe('when guards', () => {
  it('false → skipped (no output); true → runs', async () => {
    const r = await run(
      "steps:\n  - set: { topic: refund }\n  - id: no\n    reply: nope\n    when: \"vars.topic == 'other'\"\n  - id: yes\n    reply: yes\n    when: \"vars.topic == 'refund' and message.text contains '退款'\"\n  - reply: \"{{ steps.no | default: 'none' }}\"\n",
      '我要退款',
    );
    expect(shape(r.steps)).toEqual(['set-0:ok', 'no:skipped', 'yes:ok', 'reply-3:ok']);
    expect(texts(r)).toEqual(['yes', 'none']);
  });

  it('Liquid truthiness: only false and nil are false', async () => {
    const r = await run(
      'steps:\n  - reply: empty-string-is-true\n    when: "message.text"\n  - reply: nil-is-false\n    when: "vars.missing"\n',
      '',
    );
    expect(texts(r)).toEqual(['empty-string-is-true']);
  });
});

describe('switch', () => {
  const yaml = `steps:
  - set: { topic: "{% if message.text contains 'refund' %}refund{% elsif message.text contains 'ship' %}ship{% endif %}" }
  - id: route
    switch:
      cases:
        - when: "vars.topic == 'refund'"
          steps: [ { reply: "Refunds take 3–5 days." } ]
        - when: "vars.topic == 'ship'"
          steps:
            - id: inner
              switch:
                cases:
                  - when: "message.text contains 'late'"
                    steps: [ { reply: "Sorry it is late." }, { reply: "Checking." } ]
                default: { reply: "Ships in 24h." }
      default: [ { reply: "OK" } ]
  - reply: "case={{ steps.route.case }}"
`;

  it('first matching case runs; nested switch; records nest; output names the case', async () => {
    const refund = await run(yaml, 'refund please');
    expect(texts(refund)).toEqual(['Refunds take 3–5 days.', 'case=0']);
    expect(shape(refund.steps)).toEqual([
      'set-0:ok',
      { 'route:ok': ['route/cases.0.steps/reply-0:ok'] },
      'reply-2:ok',
    ]);

    const late = await run(yaml, 'my ship is late');
    expect(texts(late)).toEqual(['Sorry it is late.', 'Checking.', 'case=1']);
    expect(shape(late.steps)).toEqual([
      'set-0:ok',
      { 'route:ok': [{ 'inner:ok': ['inner/cases.0.steps/reply-0:ok', 'inner/cases.0.steps/reply-1:ok'] }] },
      'reply-2:ok',
    ]);

    const ship = await run(yaml, 'ship?');
    expect(texts(ship)).toEqual(['Ships in 24h.', 'case=1']);
    expect(shape(ship.steps)[1]).toEqual({ 'route:ok': [{ 'inner:ok': ['inner/default/reply-0:ok'] }] });

    const other = await run(yaml, 'hello');
    expect(texts(other)).toEqual(['OK', 'case=default']);
  });

  it('no case and no default → nothing runs, case is null', async () => {
    const r = await run(
      'steps:\n  - switch:\n      cases: [ { when: "false", steps: [ { reply: x } ] } ]\n  - reply: "[{{ steps.switch-0.case }}]"\n',
    );
    expect(texts(r)).toEqual(['[]']);
    expect(r.steps[0]?.output).toEqual({ case: null });
  });
});

describe('handoff', () => {
  it('ends the run with status handoff, its reply added in order; nothing after it runs', async () => {
    const r = await run(
      'steps:\n  - reply: one moment\n  - handoff: { queue: after-sales, reason: "asked for {{ message.text }}", reply: "Transferring you." }\n  - reply: never\n',
      'refund',
    );
    expect(r.status).toBe('handoff');
    expect(r.handoff).toEqual({
      queue: 'after-sales',
      reason: 'asked for refund',
      reply: 'Transferring you.',
    });
    expect(texts(r)).toEqual(['one moment', 'Transferring you.']);
    expect(shape(r.steps)).toEqual(['reply-0:ok', 'handoff-1:ok']);
  });

  it('reply text: the step, else services.handoffReply, else the default; false → none', async () => {
    const configured = await run('steps:\n  - handoff: {}\n', 'x', {
      services: { handoffReply: 'Hub text.' },
    });
    expect(configured.handoff).toEqual({ queue: 'default', reply: 'Hub text.' });
    expect(texts(configured)).toEqual(['Hub text.']);
    const builtIn = await run('steps:\n  - handoff:\n');
    expect(texts(builtIn)).toEqual([DEFAULT_HANDOFF_REPLY]);
    const queueOnly = await run('steps:\n  - handoff: vip\n');
    expect(queueOnly.handoff?.queue).toBe('vip');
    const silentHandoff = await run('steps:\n  - handoff: { reply: false }\n');
    expect(silentHandoff.status).toBe('handoff');
    expect(silentHandoff.replies).toEqual([]);
    expect(silentHandoff.handoff).toEqual({ queue: 'default' });
  });

  it('a when inside handoff (as in DESIGN.md) or on the step skips it', async () => {
    const r = await run(
      'steps:\n  - set: { score: 0.9 }\n  - handoff: { when: "vars.score < 0.3", queue: after-sales }\n  - handoff: { queue: x }\n    when: "vars.score < 0.3"\n  - reply: answered\n',
    );
    expect(r.status).toBe('ok');
    expect(r.handoff).toBeUndefined();
    expect(shape(r.steps)).toEqual(['set-0:ok', 'handoff-1:skipped', 'handoff-2:skipped', 'reply-3:ok']);
    const low = await run(
      'steps:\n  - set: { score: 0.1 }\n  - handoff: { when: "vars.score < 0.3", queue: after-sales }\n  - reply: no\n',
    );
    expect(low.status).toBe('handoff');
  });
});

describe('wait', () => {
  it('pauses for the duration', async () => {
    const started = performance.now();
    const r = await run('steps:\n  - reply: a\n  - wait: 120ms\n  - reply: b\n');
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    expect(r.steps[1]).toMatchObject({ id: 'wait-1', status: 'ok', output: { ms: 120 } });
    expect(r.steps[1]!.ms).toBeGreaterThanOrEqual(110);
  });
});

describe('nested runs for future kinds (ctx.runSteps)', () => {
  it('concurrent branches: children in declaration order, each with its own timeout; a failed branch is tolerated', async () => {
    const started = performance.now();
    const r = await run(
      'steps:\n  - id: recall\n    fanout:\n      - { id: slowest, slow: { ms: 150, output: s } }\n      - { id: fast, slow: { ms: 10, output: f } }\n      - { id: late, slow: { ms: 5000 }, timeout: 80ms }\n      - { id: broken, boom: nope }\n  - reply: "{{ steps.slowest }}{{ steps.fast }}[{{ steps.late }}]"\n',
    );
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(1000); // concurrent: not 150 + 10 + 80 sequentially… and far from 5000
    expect(r.status).toBe('ok');
    expect(r.steps[0]?.output).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
    expect(r.steps[0]?.children?.map((c) => `${c.id}:${c.status}`)).toEqual([
      'slowest:ok',
      'fast:ok',
      'late:timeout',
      'broken:failed',
    ]);
    expect(r.steps[0]?.children?.[2]?.error).toBe('timed out after 80ms');
    expect(texts(r)).toEqual(['sf[]']);
  });
});

describe('live progress (onStep)', () => {
  it('reports every record as it completes, children before their parent, with depth', async () => {
    const seen: string[] = [];
    await run(
      'steps:\n  - reply: a\n  - id: sw\n    switch:\n      cases: [ { when: "true", steps: [ { id: inner, reply: b } ] } ]\n  - reply: c\n    when: "false"\n',
      'x',
      {
        onStep: (record, progress) =>
          seen.push(
            `${record.id}:${record.status}@${progress.depth}${progress.parentId ? `<${progress.parentId}` : ''}`,
          ),
      },
    );
    expect(seen).toEqual(['reply-0:ok@0', 'inner:ok@1<sw', 'sw:ok@0', 'reply-2:skipped@0']);
  });
});

describe('dry run', () => {
  it('kinds see dryRun; handoff is reported but nothing outside the result is touched', async () => {
    const touched: string[] = [];
    const services = new Proxy({} as Record<string, unknown>, {
      get: (_t, key) => {
        touched.push(String(key));
        return undefined;
      },
      set: () => {
        throw new Error('services must not be written');
      },
    });
    const conv = { state: 'bot' as const, meta: { visits: 1 } };
    const r = await run('steps:\n  - spy: {}\n  - handoff: { queue: q, reply: "bye" }\n', 'x', {
      dryRun: true,
      services,
      conversation: conv,
    });
    expect(r.steps[0]?.output).toEqual({ dryRun: true, step: 'spy-0', workflow: 'test', timeout: 1000 });
    expect(r.status).toBe('handoff');
    expect(r.handoff?.queue).toBe('q');
    expect(touched).toEqual([]); // the step gave its own reply: no service was even looked at
    expect(conv).toEqual({ state: 'bot', meta: { visits: 1 } });
    const live = await run('steps:\n  - spy: {}\n');
    expect(live.steps[0]?.output).toMatchObject({ dryRun: false });
  });
});
