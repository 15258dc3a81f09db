/** Which workflow answers a message: conditions, channels/kinds, priority, file order, the default. */
import { describe, expect, it } from 'vitest';
import { WorkflowSet } from '../../src/workflows/index.ts';
import { conversation, message, workflowOf } from './helpers.ts';

const wf = (match: string, extra = '', file = 'w.yaml') =>
  workflowOf(`${extra}match:\n${match.replace(/^/gm, '  ')}\nsteps: [ { reply: x } ]\n`, undefined, file);

const matches = (w: ReturnType<typeof wf>, text: string | undefined, over = {}, conv = {}) =>
  new WorkflowSet([w]).match(message(text, over), conversation(conv)) !== null;

describe('conditions', () => {
  it('keywords: case-insensitive substring, Chinese, full-width letters', () => {
    const w = wf('any:\n  - keywords: [Hello, 你好, refund]');
    expect(matches(w, 'HELLO there')).toBe(true);
    expect(matches(w, '你好啊')).toBe(true);
    expect(matches(w, 'Ｒｅｆｕｎｄ please')).toBe(true);
    expect(matches(w, 'goodbye')).toBe(false);
    expect(matches(w, undefined, { kind: 'image' })).toBe(false);
  });

  it('regex with flags', () => {
    const w = wf('any:\n  - { regex: "^(hey|yo)\\\\b", flags: i }');
    expect(matches(w, 'Hey you')).toBe(true);
    expect(matches(w, 'YO')).toBe(true);
    expect(matches(w, 'yoyo')).toBe(false);
    expect(matches(w, 'they')).toBe(false);
  });

  it('command: the first word, with Telegram @bot suffix', () => {
    const w = wf('any:\n  - { command: /start }');
    expect(matches(w, '/start')).toBe(true);
    expect(matches(w, '  /START payload')).toBe(true);
    expect(matches(w, '/start@my_bot')).toBe(true);
    expect(matches(w, '/starting')).toBe(false);
    expect(matches(w, 'please /start')).toBe(false);
  });

  it('event: an event message with that name', () => {
    const w = wf('any:\n  - { event: subscribe }');
    expect(matches(w, undefined, { kind: 'event', event: 'subscribe' })).toBe(true);
    expect(matches(w, undefined, { kind: 'event', event: 'unsubscribe' })).toBe(false);
    expect(matches(w, 'subscribe')).toBe(false);
  });

  it('when: a Liquid condition over message and conversation', () => {
    const w = wf('any:\n  - { when: "message.text.size > 10 and conversation.meta.vip" }');
    expect(matches(w, 'a long message here', {}, { meta: { vip: true } })).toBe(true);
    expect(matches(w, 'a long message here', {}, { meta: {} })).toBe(false);
    expect(matches(w, 'short', {}, { meta: { vip: true } })).toBe(false);
    expect(matches(wf('any:\n  - { when: "message.text contains \\"退款\\"" }'), '我要退款')).toBe(true);
  });

  it('any: one must hold; all: every one; direct conditions count as all', () => {
    const anyAll = wf('any:\n  - keywords: [refund]\n  - keywords: [退款]\nall:\n  - keywords: [order]');
    expect(matches(anyAll, 'refund my order')).toBe(true);
    expect(matches(anyAll, '退款 order')).toBe(true);
    expect(matches(anyAll, 'refund')).toBe(false);
    expect(matches(anyAll, 'order')).toBe(false);
    const direct = wf('keywords: [refund]\nregex: "\\\\d{6}"');
    expect(matches(direct, 'refund 123456')).toBe(true);
    expect(matches(direct, 'refund')).toBe(false);
  });

  it('channels are channel types; kinds are message kinds', () => {
    const w = wf('channels: [wecom, telegram]\nkinds: [text]');
    expect(matches(w, 'x', { channel: 'wecom' })).toBe(true);
    expect(matches(w, 'x', { channel: 'web' })).toBe(false);
    expect(matches(w, undefined, { channel: 'wecom', kind: 'image' })).toBe(false);
  });

  it('a workflow without match: matches nothing (unless it is the default)', () => {
    const none = workflowOf('name: n\nsteps: [ { reply: x } ]\n');
    expect(new WorkflowSet([none]).match(message('anything'), conversation())).toBeNull();
  });
});

describe('choosing among workflows', () => {
  const text = (name: string, priority: number, file: string, keyword = 'order') =>
    workflowOf(
      `name: ${name}\npriority: ${priority}\nmatch: { keywords: [${keyword}] }\nsteps: [ { reply: x } ]\n`,
      undefined,
      file,
    );

  it('priority first (higher wins), then file name, the default last', () => {
    const def = workflowOf(
      'name: fallback\ndefault: true\nsteps: [ { reply: x } ]\n',
      undefined,
      '0-default.yaml',
    );
    const low = text('low', 1, 'a.yaml');
    const highB = text('high-b', 5, 'b.yaml');
    const highA = text('high-a', 5, 'c-but-a.yaml');
    const set = new WorkflowSet([def, low, highA, highB]);
    expect(set.list().map((w) => w.name)).toEqual(['high-b', 'high-a', 'low', 'fallback']);
    expect(set.match(message('my order'), conversation())?.name).toBe('high-b');
    expect(set.match(message('something else'), conversation())?.name).toBe('fallback');
    expect(set.get('low')).toBe(low);
  });

  it('the default catches everything, or only what its own match: allows', () => {
    const def = workflowOf(
      'default: true\nmatch: { kinds: [text] }\nsteps: [ { reply: x } ]\n',
      undefined,
      'd.yaml',
    );
    const set = new WorkflowSet([def, text('orders', 0, 'o.yaml')]);
    expect(set.match(message('hi'), conversation())?.name).toBe('d');
    expect(set.match(message(undefined, { kind: 'image' }), conversation())).toBeNull();
  });

  it('no workflow matched and no default → null', () => {
    expect(new WorkflowSet([text('orders', 0, 'o.yaml')]).match(message('hi'), conversation())).toBeNull();
    expect(new WorkflowSet().match(message('hi'), conversation())).toBeNull();
  });

  it('matching is cheap: 2k messages over 50 keyword/regex workflows in well under a second', () => {
    const set = new WorkflowSet(
      Array.from({ length: 50 }, (_, i) =>
        workflowOf(
          `name: w${i}\npriority: ${i}\nmatch:\n  any:\n    - keywords: [kw${i}x, 关键词${i}]\n    - regex: "^cmd${i}\\\\b"\nsteps: [ { reply: x } ]\n`,
          undefined,
          `w${i}.yaml`,
        ),
      ),
    );
    // texts mention kw0x … kw59x: the first 50 have a workflow, the last 10 do not
    const msgs = Array.from({ length: 100 }, (_, i) => message(`some text ${i} with kw${i % 60}x`));
    const started = performance.now();
    let hits = 0;
    for (let n = 0; n < 20; n++) for (const m of msgs) if (set.match(m, conversation())) hits++;
    expect(hits).toBe(20 * 90);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
