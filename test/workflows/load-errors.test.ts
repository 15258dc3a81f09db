/**
 * Every way a workflow file can be wrong is a `file:line:col message`, at the right place,
 * and a broken file never takes a good one down with it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { formatConfigIssue } from '../../src/errors.ts';
import { defaultStepKinds, loadWorkflowDir, loadWorkflowFiles, Workflow } from '../../src/workflows/index.ts';
import { tempDir } from './helpers.ts';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

/** Load one file with `text` and return its issues as printed lines (path relative to the temp dir). */
async function errorsOf(text: string, name = 'x.yaml'): Promise<string[]> {
  const t = tempDir({ [name]: text });
  cleanup = t.cleanup;
  const { issues } = await loadWorkflowFiles([t.path(name)], defaultStepKinds());
  return issues.map((i) => formatConfigIssue({ ...i, file: i.file.slice(t.dir.length + 1) }));
}

describe('workflow file errors are file:line:col message', () => {
  it('unknown step kind, at the key, listing the known kinds', async () => {
    const text = ['name: x', 'steps:', '  - reply: hi', '  - id: second', '    replyy: "typo"', ''].join(
      '\n',
    );
    expect(await errorsOf(text)).toEqual([
      'x.yaml:5:5 unknown step kind "replyy" (known: handoff, reply, set, switch, wait)',
    ]);
  });

  it('YAML syntax errors', async () => {
    const [line] = await errorsOf('steps:\n  - reply: "unclosed\n');
    expect(line).toMatch(/^x\.yaml:3:1 .*quote/i);
    expect(await errorsOf('steps: []\nsteps: []\n')).toEqual(['x.yaml:2:1 Map keys must be unique']);
  });

  it('missing fields', async () => {
    expect(await errorsOf('name: x\n')).toEqual(['x.yaml:1:1 missing required field "steps"']);
    expect(await errorsOf('')).toEqual(['x.yaml:1:1 missing required field "steps"']);
    expect(await errorsOf('steps:\n  - reply: { kind: markdown }\n')).toEqual([
      'x.yaml:2:12 missing required field "text"',
    ]);
    expect(await errorsOf('steps:\n  - switch:\n      cases:\n        - when: "true"\n')).toEqual([
      'x.yaml:4:11 missing required field "steps"',
    ]);
  });

  it('bad regex, at the pattern', async () => {
    const text = [
      'match:',
      '  any:',
      '    - { keywords: [a] }',
      '    - { regex: "([a-z" }',
      'steps: [ { reply: hi } ]',
      '',
    ].join('\n');
    expect(await errorsOf(text)).toEqual([
      'x.yaml:4:16 invalid regex: /([a-z/: Unterminated character class',
    ]);
    expect(await errorsOf('match:\n  regex: "a"\n  flags: g\nsteps: [ { reply: hi } ]\n')).toEqual([
      'x.yaml:2:10 regex flags g and y are not allowed (matching is stateless); use i, m, s, u',
    ]);
  });

  it('bad template, at the error inside the template', async () => {
    // col 19 is the `{{` of the broken output, not just the start of the string
    expect(await errorsOf('steps:\n  - reply: "Hello {{ x | nofilter }}"\n')).toEqual([
      'x.yaml:2:19 invalid template: undefined filter: nofilter',
    ]);
    expect(await errorsOf('steps:\n  - reply: |\n      line one\n      line {{ y | nope }}\n')).toEqual([
      'x.yaml:4:12 invalid template: undefined filter: nope',
    ]);
    expect(await errorsOf('steps:\n  - reply: "{% iff x %}"\n')).toEqual([
      'x.yaml:2:13 invalid template: tag "iff" not found',
    ]);
    // No file system: include/render are not available.
    expect(await errorsOf('steps:\n  - reply: "{% include \'secrets\' %}"\n')).toEqual([
      'x.yaml:2:13 invalid template: tag "include" not found',
    ]);
    expect(await errorsOf('steps:\n  - reply: "{{ message.text | matches: \'(\' }}"\n')).toEqual([
      'x.yaml:2:40 invalid template: Invalid regular expression: /(/: Unterminated group',
    ]);
  });

  it('bad condition expressions, in when guards, switch cases and match', async () => {
    expect(await errorsOf('steps:\n  - reply: hi\n    when: "vars.x =="\n')).toEqual([
      'x.yaml:3:19 invalid condition: it ends with an operator',
    ]);
    expect(await errorsOf('steps:\n  - reply: hi\n    when: "vars.a vars.b"\n')).toEqual([
      'x.yaml:3:19 invalid condition: missing operator before "vars.b" (use ==, !=, <, >, <=, >=, contains, and, or)',
    ]);
    expect(
      await errorsOf(
        'steps:\n  - switch:\n      cases:\n        - when: "x | nofilter"\n          steps: [ { reply: a } ]\n',
      ),
    ).toEqual(['x.yaml:4:18 invalid condition: undefined filter: nofilter']);
    expect(await errorsOf('steps:\n  - reply: hi\n    when: "vars.a and (vars.b or vars.c)"\n')).toEqual([
      'x.yaml:3:23 invalid condition: parentheses only make ranges like (1..5); conditions cannot be grouped',
    ]);
    expect(
      await errorsOf('match:\n  any:\n    - when: "message.text == \'a"\nsteps: [ { reply: hi } ]\n'),
    ).toEqual(['x.yaml:3:30 invalid condition: unclosed quote']);
  });

  it('duplicate step ids, at the second id, nested ones included', async () => {
    expect(await errorsOf('steps:\n  - id: a\n    reply: hi\n  - id: a\n    reply: ho\n')).toEqual([
      'x.yaml:4:9 duplicate step id "a" (already used by the step at steps.0)',
    ]);
    const nested =
      'steps:\n  - id: s\n    switch:\n      cases:\n        - when: "true"\n          steps:\n            - id: s\n              reply: x\n';
    expect(await errorsOf(nested)).toEqual([
      'x.yaml:7:19 duplicate step id "s" (already used by the step at steps.0)',
    ]);
  });

  it('step shape errors', async () => {
    expect(await errorsOf('steps:\n  - reply: hi\n    set: { a: 1 }\n')).toEqual([
      'x.yaml:3:5 a step has exactly one kind, found "reply" and "set" (split it into two steps)',
    ]);
    expect(await errorsOf('steps:\n  - id: lonely\n')).toEqual([
      'x.yaml:2:5 step has no kind (known: handoff, reply, set, switch, wait)',
    ]);
    expect(await errorsOf('steps:\n  - id: 1abc\n    reply: x\n')).toEqual([
      'x.yaml:2:9 step id may use letters, digits, _ and - (and not start with a digit)',
    ]);
    expect(await errorsOf('steps:\n  - reply: x\n    timeout: soon\n')).toEqual([
      'x.yaml:3:14 steps.0.timeout: invalid duration "soon" (use e.g. 500ms, 3s, 2m, 1h, 7d)',
    ]);
    expect(await errorsOf('steps:\n  - reply: x\n    fallback: { replyy: y }\n')).toEqual([
      'x.yaml:3:17 unknown step kind "replyy" (known: handoff, reply, set, switch, wait)',
    ]);
    expect(await errorsOf('steps: []\n')).toEqual(['x.yaml:1:8 a step list may not be empty']);
  });

  it('unknown keys and wrong types', async () => {
    expect(await errorsOf('name: x\nstepz: []\nsteps: [ { reply: hi } ]\n')).toEqual([
      'x.yaml:2:1 unknown key "stepz"',
    ]);
    expect(await errorsOf('steps:\n  - handoff: { queu: x }\n')).toEqual(['x.yaml:2:16 unknown key "queu"']);
    expect(await errorsOf('match:\n  any:\n    - { keyword: [a] }\nsteps: [ { reply: hi } ]\n')).toEqual([
      'x.yaml:3:9 unknown condition "keyword" (known: command, event, keywords, regex, when)',
    ]);
    expect(await errorsOf('priority: high\nsteps: [ { reply: hi } ]\n')).toEqual([
      'x.yaml:1:11 priority: Invalid input: expected number, received string',
    ]);
    expect(await errorsOf('steps:\n  - reply: hi\n    when: { a: 1 }\n')).toEqual([
      'x.yaml:3:11 steps.0.when: expected a condition, got a map',
    ]);
  });

  it('reports every error of a file at once', async () => {
    const text = [
      'name: broken',
      'match:',
      '  any:',
      '    - { regex: "([a-z" }',
      'steps:',
      '  - replyy: "hi"',
      '  - reply: "{{ message.text "',
      '',
    ].join('\n');
    expect(await errorsOf(text)).toEqual([
      'x.yaml:4:16 invalid regex: /([a-z/: Unterminated character class',
      'x.yaml:6:5 unknown step kind "replyy" (known: handoff, reply, set, switch, wait)',
      'x.yaml:7:13 invalid template: output "{{ message.text " not closed',
    ]);
  });
});

describe('cross-file rules', () => {
  it('a duplicate workflow name is reported on the second file; the first keeps serving', async () => {
    const t = tempDir({
      'a.yaml': 'name: same\nmatch: { keywords: [a] }\nsteps: [ { reply: a } ]\n',
      'b.yaml': 'description: two\nname: same\nsteps: [ { reply: b } ]\n',
      'c.yml': 'steps: [ { reply: c } ]\n',
      'notes.txt': 'not a workflow',
      '.hidden.yaml': 'garbage: [',
    });
    cleanup = t.cleanup;
    const { set, issues, perFile } = await loadWorkflowDir(t.dir, defaultStepKinds());
    expect(issues.map(formatConfigIssue)).toEqual([
      `${t.path('b.yaml')}:2:7 duplicate workflow name "same" (already defined in ${t.path('a.yaml')})`,
    ]);
    expect(set.list().map((w) => `${w.name}@${w.file.slice(t.dir.length + 1)}`)).toEqual([
      'same@a.yaml',
      'c@c.yml',
    ]);
    expect(perFile.get(t.path('a.yaml'))).toBeInstanceOf(Workflow);
    expect(perFile.get(t.path('b.yaml'))).toHaveLength(1);
    expect([...perFile.keys()].map((f) => f.slice(t.dir.length + 1))).toEqual(['a.yaml', 'b.yaml', 'c.yml']);
  });

  it('at most one default workflow', async () => {
    const t = tempDir({
      'a.yaml': 'default: true\nsteps: [ { reply: a } ]\n',
      'b.yaml': 'name: b\ndefault: true\nsteps: [ { reply: b } ]\n',
    });
    cleanup = t.cleanup;
    const { set, issues } = await loadWorkflowDir(t.dir, defaultStepKinds());
    expect(issues.map(formatConfigIssue)).toEqual([
      `${t.path('b.yaml')}:2:10 only one workflow may be the default ("a" in ${t.path('a.yaml')} already is)`,
    ]);
    expect(set.list().map((w) => w.name)).toEqual(['a']);
  });

  it('a missing directory or file is an issue, not a throw', async () => {
    const missing = await loadWorkflowDir('/nonexistent/workflows', defaultStepKinds());
    expect(missing.issues[0]?.message).toMatch(/^cannot read workflow directory: ENOENT/);
    expect(missing.set.size).toBe(0);
    const file = await loadWorkflowFiles(['/nonexistent/x.yaml'], defaultStepKinds());
    expect(formatConfigIssue(file.issues[0]!)).toMatch(
      /^\/nonexistent\/x\.yaml:1:1 cannot read file: ENOENT/,
    );
  });
});
