// The workflow run behind a bot reply: each step with its kind, status, time, output and error,
// nested branches indented, fallbacks and failures marked.
import { h } from './dom.js';

export function renderRun(run) {
  if (!run) return h('p.muted', {}, 'No run recorded for this message yet.');
  return h(
    'div.trace',
    {},
    h(
      'p.trace-head',
      {},
      h('strong', {}, run.workflow ?? '(no workflow)'),
      ' ',
      h(`span.badge.run.run-${run.status}`, {}, run.status),
      ` ${run.duration_ms} ms · trace ${run.trace_id}`,
    ),
    run.error ? h('p.trace-error', {}, run.error) : null,
    run.steps.length ? h('ol.steps', {}, run.steps.map(renderStep)) : h('p.muted', {}, 'No steps ran.'),
  );
}

function renderStep(step) {
  const output = step.output === undefined ? null : JSON.stringify(step.output, null, 2);
  return h(
    `li.step.step-${step.status}`,
    {},
    h(
      'div.step-line',
      {},
      h('code', {}, step.id),
      h('span.kind', {}, step.kind),
      h(`span.badge.run.run-${step.status}`, {}, step.status),
      h('span.ms', {}, `${step.ms} ms`),
    ),
    step.error ? h('p.trace-error', {}, step.error) : null,
    output ? h('pre.output', {}, output.length > 4000 ? `${output.slice(0, 4000)}\n…` : output) : null,
    step.children?.length ? h('ol.steps', {}, step.children.map(renderStep)) : null,
  );
}
