/**
 * Channel types by name, and the adapter instances built from hub.yaml. Adding a platform is one
 * folder under src/channels/ plus one line here (see docs/adding-a-channel.md).
 */
import type { ChannelInstanceConfig } from '../config/hub-schema.ts';
import type { AdapterDeps, ChannelAdapter, ChannelType } from './types.ts';

export class ChannelTypeRegistry {
  private readonly types = new Map<string, ChannelType<any>>();

  constructor(types: ChannelType<any>[]) {
    for (const t of types) this.register(t);
  }

  register(type: ChannelType<any>): void {
    if (this.types.has(type.type)) throw new Error(`channel type "${type.type}" registered twice`);
    this.types.set(type.type, type);
  }

  get(type: string): ChannelType<any> | undefined {
    return this.types.get(type);
  }

  names(): string[] {
    return [...this.types.keys()].sort();
  }
}

/** The adapter instances of one hub, looked up by (type, instance id). */
export class AdapterSet {
  private readonly byKey = new Map<string, ChannelAdapter>();

  constructor(adapters: ChannelAdapter[]) {
    for (const a of adapters) this.byKey.set(`${a.type}/${a.id}`, a);
  }

  get(type: string, id: string): ChannelAdapter | undefined {
    return this.byKey.get(`${type}/${id}`);
  }

  all(): ChannelAdapter[] {
    return [...this.byKey.values()];
  }
}

/** Build adapters for the enabled channel instances. Config was validated at load (load-hub.ts). */
export function buildAdapters(
  registry: ChannelTypeRegistry,
  channels: ChannelInstanceConfig[],
  deps: AdapterDeps,
): AdapterSet {
  const adapters = channels
    .filter((c) => c.enabled)
    .map((c) => {
      const type = registry.get(c.type);
      if (!type) throw new Error(`unknown channel type "${c.type}"`);
      return type.create(c.id, type.configSchema.parse(c), deps);
    });
  return new AdapterSet(adapters);
}
