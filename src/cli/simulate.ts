/**
 * `switchboard simulate --channel web --text "…"`: a dry run of matching and the workflow.
 * Prints the matched workflow, each step with its output and time, and the replies — sends nothing,
 * writes nothing, needs neither Redis nor the store.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { simulationSources } from '../ai/simulate-sources.ts';
import { aiStepKinds } from '../ai/step-kinds.ts';
import { allChannelTypes } from '../channels/all.ts';
import { ChannelTypeRegistry } from '../channels/registry.ts';
import { readEnv } from '../config/env.ts';
import { loadHubConfig } from '../config/load-hub.ts';
import { formatConfigIssue } from '../errors.ts';
import { silentLogger } from '../log.ts';
import { MESSAGE_KINDS, type MessageKind, toInboundMessage } from '../messages.ts';
import type { Conversation, StepRecord } from '../store/types.ts';
import { defaultStepKinds, loadWorkflowDir, runWorkflow, walkSteps } from '../workflows/index.ts';

interface SimulateOptions {
  channel: string;
  channelId?: string;
  text?: string;
  kind: string;
  event?: string;
  sender: string;
  json?: boolean;
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('dry-run matching and the workflow for one message; prints each step, its output and time')
    .requiredOption('--channel <type>', 'channel type the message comes from (web, wecom, …)')
    .option('--channel-id <id>', 'channel instance id', undefined)
    .option('--text <text>', 'message text')
    .option('--kind <kind>', `message kind (${MESSAGE_KINDS.join(', ')})`, 'text')
    .option('--event <name>', 'event name, for --kind event')
    .option('--sender <id>', 'sender id', 'simulated-user')
    .option('--json', 'print the whole run as JSON')
    .action(async (opts: SimulateOptions) => {
      const code = await simulate(opts, (line) => process.stdout.write(`${line}\n`));
      process.exit(code);
    });
}

export async function simulate(opts: SimulateOptions, print: (line: string) => void): Promise<number> {
  const env = readEnv();
  const config = await loadHubConfig(env.CONFIG_DIR, new ChannelTypeRegistry(allChannelTypes));
  const kinds = defaultStepKinds();
  for (const kind of aiStepKinds({ sources: config.sources, configDir: env.CONFIG_DIR }))
    kinds.register(kind);
  const loaded = await loadWorkflowDir(resolve(env.CONFIG_DIR, config.workflows.dir), kinds);
  for (const issue of loaded.issues) print(`warning: ${formatConfigIssue(issue)} (file skipped)`);
  if (!MESSAGE_KINDS.includes(opts.kind as MessageKind)) {
    print(`--kind must be one of ${MESSAGE_KINDS.join(', ')}`);
    return 1;
  }
  const channelId =
    opts.channelId ?? config.channels.find((c) => c.type === opts.channel)?.id ?? opts.channel;
  const message = toInboundMessage({
    channel: opts.channel,
    channelId,
    platformMessageId: `simulate-${Date.now()}`,
    platformChatId: 'simulate',
    sender: { id: opts.sender },
    kind: opts.kind as MessageKind,
    text: opts.text,
    event: opts.event,
    replyTo: {},
  });
  const now = new Date().toISOString();
  const conversation: Conversation = {
    id: message.conversationId,
    channel: message.channel,
    channelId,
    state: 'bot',
    assignee: null,
    handoffQueue: null,
    meta: {},
    createdAt: now,
    updatedAt: now,
    closedAt: null,
  };
  const workflow = loaded.set.match(message, conversation);
  if (!workflow) {
    print(
      opts.json
        ? JSON.stringify({ workflow: null, status: 'no_match' })
        : 'no workflow matched (and no default workflow)',
    );
    return 0;
  }
  if (!opts.json) print(`matched workflow: ${workflow.name} (${workflow.file})`);
  // Knowledge and demo orders in memory, nothing written: see src/ai/simulate-sources.ts.
  const ai = simulationSources({
    sources: config.sources,
    configDir: env.CONFIG_DIR,
    breaker: config.breaker,
    logger: silentLogger,
  });
  await ai.runtime.warmUp([...walkSteps(workflow.steps)].map((s) => s.kind));
  const result = await runWorkflow(
    workflow,
    { message, conversation },
    {
      kinds,
      services: { handoffReply: config.replies.handoff, ai: ai.runtime },
      logger: silentLogger,
      stepTimeoutMs: config.workflows.stepTimeout,
      runTimeoutMs: config.workflows.runTimeout,
      dryRun: true,
    },
  ).finally(() => ai.stop());
  if (opts.json) {
    print(JSON.stringify(result, null, 2));
    return result.status === 'failed' ? 1 : 0;
  }
  for (const note of ai.notes) print(`  note: ${note}`);
  printSteps(result.steps, 1, print);
  print(
    `status: ${result.status}${result.error ? ` (${result.error})` : ''}, ${result.durationMs.toFixed(1)} ms`,
  );
  if (result.handoff)
    print(
      `hand-off to queue "${result.handoff.queue}"${result.handoff.reason ? `: ${result.handoff.reason}` : ''}`,
    );
  print(result.replies.length ? 'replies:' : 'replies: (none)');
  for (const reply of result.replies) print(`  [${reply.kind}] ${reply.text}`);
  return result.status === 'failed' ? 1 : 0;
}

function printSteps(steps: StepRecord[], depth: number, print: (line: string) => void): void {
  const mark: Record<StepRecord['status'], string> = {
    ok: '✓',
    skipped: '-',
    failed: '✗',
    fallback: '↺',
    timeout: '⏱',
  };
  for (const step of steps) {
    const pad = '  '.repeat(depth);
    const output = step.output === undefined ? '' : ` → ${truncate(JSON.stringify(step.output), 200)}`;
    const error = step.error ? ` (${step.error})` : '';
    print(
      `${pad}${mark[step.status]} ${step.id} [${step.kind}] ${step.status} ${step.ms.toFixed(1)} ms${error}${output}`,
    );
    if (step.children) printSteps(step.children, depth + 1, print);
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
