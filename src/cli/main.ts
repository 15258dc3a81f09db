/**
 * `switchboard` — start the hub, validate config, dry-run workflows, manage dead letters and the
 * knowledge base. Each command lives in its own file; this one only wires them to commander.
 *
 * Only the command being run is loaded (the hub's module graph takes a while to load on a busy
 * machine, and `start` must fail within seconds when Redis is missing); `--help` loads them all.
 */
import { Command } from 'commander';

type Register = (program: Command) => void;

const COMMANDS: Record<string, () => Promise<Register>> = {
  start: async () => (await import('./start.ts')).registerStartCommand,
  validate: async () => (await import('./validate.ts')).registerValidateCommand,
  simulate: async () => (await import('./simulate.ts')).registerSimulateCommand,
  dlq: async () => (await import('./dlq.ts')).registerDlqCommand,
  kb: async () => (await import('./kb.ts')).registerKbCommand,
};

export async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('switchboard')
    .description('Omnichannel customer-service hub: channels in, YAML workflows, replies out.')
    .showHelpAfterError();
  const wanted = argv[2];
  const names = wanted && wanted in COMMANDS ? [wanted] : Object.keys(COMMANDS);
  for (const name of names) (await COMMANDS[name]!())(program);
  await program.parseAsync(argv);
}
