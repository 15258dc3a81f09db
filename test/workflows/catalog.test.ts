/** Hot reload through real fs.watch events in a temp directory. */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { formatConfigIssue } from '../../src/errors.ts';
import {
  defaultStepKinds,
  type ReloadInfo,
  WorkflowCatalog,
  type WorkflowSet,
} from '../../src/workflows/index.ts';
import { captureLogger, conversation, message, silent, tempDir } from './helpers.ts';

const kinds = defaultStepKinds();
const version = (label: string, name = 'echo') =>
  `name: ${name}\ndefault: true\nsteps:\n  - reply: "${label}"\n`;
/** The reply text the serving workflow would give (its first step's template source). */
const served = (set: WorkflowSet, name = 'echo') => {
  const step = set.get(name)?.steps[0];
  return step ? (step.input as { text: { source: string } }).text.source : undefined;
};

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(files: Record<string, string>, opts: { watch?: boolean } = {}) {
  const t = tempDir(files);
  const log = captureLogger();
  const catalog = await WorkflowCatalog.open(t.dir, { kinds, logger: log.logger, debounceMs: 30, ...opts });
  cleanups.push(t.cleanup, () => catalog.close());
  return { t, catalog, log };
}

/** Resolve with the next `reload` event for `file` that satisfies `pred`. */
function nextReload(
  catalog: WorkflowCatalog,
  file: string,
  pred: (i: ReloadInfo) => boolean = () => true,
): Promise<ReloadInfo> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reload event for ${file} within 5s`)), 5000);
    const on = (info: ReloadInfo) => {
      if (info.file !== file || !pred(info)) return;
      clearTimeout(timer);
      catalog.off('reload', on);
      resolve(info);
    };
    catalog.on('reload', on);
  });
}

describe('WorkflowCatalog', () => {
  it('good → broken (last good keeps serving, reload event + error log) → fixed → deleted', async () => {
    const { t, catalog, log } = await setup({ 'echo.yaml': version('v1') });
    const file = t.path('echo.yaml');
    expect(served(catalog.current())).toBe('v1');
    expect(catalog.issues()).toEqual([]);

    let event = nextReload(catalog, file);
    t.write('echo.yaml', version('v2'));
    expect(await event).toEqual({ file, ok: true, issues: [], serving: 'echo' });
    expect(served(catalog.current())).toBe('v2');

    event = nextReload(catalog, file);
    t.write('echo.yaml', 'name: echo\ndefault: true\nsteps:\n  - reply: "{{ message.text "\n');
    const broken = await event;
    expect(broken.ok).toBe(false);
    expect(broken.serving).toBe('echo');
    expect(broken.issues.map(formatConfigIssue)).toEqual([
      `${file}:4:13 invalid template: output "{{ message.text " not closed`,
    ]);
    expect(served(catalog.current())).toBe('v2');
    expect(catalog.current().match(message('x'), conversation())?.name).toBe('echo');
    expect(catalog.issues()).toEqual(broken.issues);
    const errorLog = log.records.find((r) => r.level === 50);
    expect(errorLog).toMatchObject({ file, issues: broken.issues });
    expect(String(errorLog?.msg)).toContain(`${file}:4:13 invalid template`);

    event = nextReload(catalog, file);
    t.write('echo.yaml', version('v3'));
    expect((await event).ok).toBe(true);
    expect(served(catalog.current())).toBe('v3');
    expect(catalog.issues()).toEqual([]);

    event = nextReload(catalog, file);
    rmSync(file);
    expect(await event).toEqual({ file, ok: true, issues: [], deleted: true });
    expect(catalog.current().get('echo')).toBeUndefined();
    expect(catalog.current().size).toBe(0);
  });

  it('a broken new file serves nothing; adding files and editor-style rename writes are picked up', async () => {
    const { t, catalog } = await setup({ 'a.yaml': version('a', 'a') });
    const bad = nextReload(catalog, t.path('b.yaml'));
    t.write('b.yaml', 'name: b\nsteps:\n  - replyy: x\n');
    expect((await bad).issues.map((i) => `${i.line}:${i.col} ${i.message}`)).toEqual([
      '3:5 unknown step kind "replyy" (known: handoff, reply, set, switch, wait)',
    ]);
    expect(
      catalog
        .current()
        .list()
        .map((w) => w.name),
    ).toEqual(['a']);

    // Many editors save by writing a temp file and renaming it over the original.
    const renamed = nextReload(catalog, t.path('b.yaml'), (i) => i.ok);
    writeFileSync(t.path('.b.yaml.tmp'), 'name: b\nmatch: { keywords: [bee] }\nsteps: [ { reply: buzz } ]\n');
    renameSync(t.path('.b.yaml.tmp'), t.path('b.yaml'));
    await renamed;
    expect(catalog.current().match(message('a bee'), conversation())?.name).toBe('b');
    expect(catalog.issues()).toEqual([]);
  });

  it('a new file reusing a serving name is refused; the original keeps serving until it is gone', async () => {
    const { t, catalog } = await setup({ 'z-original.yaml': version('original') });
    const dup = nextReload(catalog, t.path('a-copy.yaml'));
    t.write('a-copy.yaml', version('copy'));
    const info = await dup;
    expect(info.ok).toBe(false);
    expect(info.issues[0]?.message).toBe(
      `duplicate workflow name "echo" (already defined in ${t.path('z-original.yaml')})`,
    );
    expect(served(catalog.current())).toBe('original');

    const takeover = nextReload(catalog, t.path('a-copy.yaml'), (i) => i.ok);
    rmSync(t.path('z-original.yaml'));
    await takeover;
    expect(served(catalog.current())).toBe('copy');
  });

  it('never serves a half-loaded set while files change quickly', async () => {
    const { t, catalog } = await setup({
      'echo.yaml': version('v0'),
      'other.yaml': version('o', 'other').replace('default: true\n', ''),
    });
    let sawMissing = false;
    const sampler = setInterval(() => {
      const set = catalog.current();
      if (!set.get('echo') || !set.get('other')) sawMissing = true;
    }, 1);
    const last = nextReload(catalog, t.path('echo.yaml'), () => served(catalog.current()) === 'v19');
    for (let i = 1; i < 20; i++) {
      t.write('echo.yaml', i % 3 === 0 ? 'steps: [' : version(`v${i}`));
      await new Promise((r) => setTimeout(r, 5));
    }
    await last;
    clearInterval(sampler);
    expect(sawMissing).toBe(false);
  });

  it('watch: false reloads only on request; close() stops watching', async () => {
    const { t, catalog } = await setup({ 'echo.yaml': version('v1') }, { watch: false });
    t.write('echo.yaml', version('v2'));
    await new Promise((r) => setTimeout(r, 150));
    expect(served(catalog.current())).toBe('v1');
    await catalog.reload();
    expect(served(catalog.current())).toBe('v2');

    const watched = await WorkflowCatalog.open(t.dir, { kinds, logger: silent, debounceMs: 20 });
    await watched.close();
    t.write('echo.yaml', version('v3'));
    await new Promise((r) => setTimeout(r, 150));
    expect(served(watched.current())).toBe('v2');
  });

  it('a missing directory gives an empty, usable set and an issue', async () => {
    const catalog = await WorkflowCatalog.open('/nonexistent/workflows', {
      kinds,
      logger: silent,
      watch: true,
    });
    cleanups.push(() => catalog.close());
    expect(catalog.current().match(message('x'), conversation())).toBeNull();
    expect(catalog.issues()[0]?.message).toMatch(/^cannot read workflow directory/);
  });
});
