/**
 * The deployment artefacts cannot run here (no Docker, no cluster), so this keeps them correct
 * against the code: entry point and CLI arguments, ports, probe paths that really answer, env
 * names from the env schema, secrets and config maps that exist, a config that validates, Redis
 * settings that keep jobs, an autoscaler on a metric the hub exports.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { allChannelTypes } from '../../src/channels/all.ts';
import { ChannelTypeRegistry } from '../../src/channels/registry.ts';
import { validatePaths } from '../../src/cli/validate.ts';
import { checkHubConfig } from '../../src/config/load-hub.ts';
import { silentLogger } from '../../src/log.ts';
import { createApp } from '../../src/server/app.ts';
import { healthRoutes } from '../../src/server/routes/health.ts';
import { DEFAULT_PORT, HUB_ENV, k8sManifests, type Manifest, ROOT, readDeploy } from './load-manifests.ts';
import { hubMetricNames, unknownSeries } from './metric-names.ts';

const ROLES = ['all', 'ingress', 'worker'];

/** Probe paths must be routes that answer 200 on a hub: checked against the real router. */
let probeOk: (path: string) => Promise<boolean>;
let closeProbe: () => void;
beforeAll(async () => {
  const server = createServer(createApp([healthRoutes({})], silentLogger));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  probeOk = async (path) => (await fetch(`http://127.0.0.1:${port}${path}`)).status === 200;
  closeProbe = () => server.close();
});
afterAll(() => closeProbe?.());

/** `start --role <role>` → the role; anything else fails the test. */
function roleOf(args: unknown): string {
  expect(Array.isArray(args)).toBe(true);
  const list = args as string[];
  expect(list[0]).toBe('start');
  expect(list[1]).toBe('--role');
  expect(ROLES).toContain(list[2]);
  return list[2]!;
}

describe('Dockerfile', () => {
  const lines = readDeploy('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const instr = (name: string) =>
    lines.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());
  const lastFrom = lines.map((l) => l.startsWith('FROM ')).lastIndexOf(true);
  const finalStage = lines.slice(lastFrom);
  const finalInstr = (name: string) =>
    finalStage.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());

  it('is multi-stage, installs production dependencies only, runs as a non-root user', () => {
    expect(instr('FROM').length).toBeGreaterThanOrEqual(2);
    expect(instr('RUN').some((r) => /npm ci\b.*--omit=dev/.test(r))).toBe(true);
    const user = finalInstr('USER').at(-1);
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(finalInstr('RUN').some((r) => /npm (ci|install)/.test(r))).toBe(false);
  });

  it('runs `node bin/switchboard.js start` and exposes the default PORT', () => {
    const command = [
      ...JSON.parse(finalInstr('ENTRYPOINT').at(-1)!),
      ...JSON.parse(finalInstr('CMD').at(-1)!),
    ];
    expect(command).toEqual(['node', 'bin/switchboard.js', 'start']);
    expect(existsSync(join(ROOT, 'bin/switchboard.js'))).toBe(true);
    expect(finalInstr('EXPOSE')).toEqual([String(DEFAULT_PORT)]);
    const env = finalInstr('ENV').join(' ');
    expect(env).toContain(`PORT=${DEFAULT_PORT}`);
    for (const [, name] of env.matchAll(/(\w+)=/g))
      if (name !== 'NODE_ENV') expect(HUB_ENV, name).toContain(name);
  });

  it('copies only paths that exist, and the ignore file lets them in', () => {
    const ignore = readDeploy('Dockerfile.dockerignore');
    for (const copy of instr('COPY').filter((c) => !c.includes('--from='))) {
      const parts = copy.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const source of parts.slice(0, -1)) {
        expect(existsSync(join(ROOT, source)), source).toBe(true);
        expect(ignore, source).toContain(`!${source}`);
      }
    }
  });
});

describe('docker compose', () => {
  const compose = parseDocument(readDeploy('docker-compose.yml'), { merge: true }).toJS() as {
    // biome-ignore lint/suspicious/noExplicitAny: a parsed compose file, walked freely by the assertions
    services: Record<string, any>;
  };
  const hubs = Object.entries(compose.services).filter(
    ([, s]) => Array.isArray(s.command) && s.command[0] === 'start',
  );

  it('runs an ingress and a worker from the image built by deploy/Dockerfile', () => {
    expect(hubs.map(([, s]) => roleOf(s.command)).sort()).toEqual(['ingress', 'worker']);
    for (const [, s] of hubs) {
      expect(s.build.dockerfile).toBe('deploy/Dockerfile');
      expect(existsSync(join(ROOT, 'deploy', s.build.context, s.build.dockerfile))).toBe(true);
    }
  });

  it('sets only environment variables the hub reads, pointing at the compose services', () => {
    for (const [name, s] of hubs) {
      for (const key of Object.keys(s.environment)) expect(HUB_ENV, `${name}: ${key}`).toContain(key);
      expect(new URL(s.environment.REDIS_URL).hostname).toBe('redis');
      expect(new URL(s.environment.DATABASE_URL).hostname).toBe('postgres');
      expect(Object.keys(s.depends_on).sort()).toEqual(['postgres', 'redis']);
    }
  });

  it('publishes the ingress PORT and probes real health routes', async () => {
    const ingress = compose.services.ingress;
    expect(ingress.ports).toContain(`${ingress.environment.PORT}:${ingress.environment.PORT}`);
    for (const [, s] of hubs) {
      const path = /\/(healthz|readyz)\b/.exec(s.healthcheck.test.join(' '))?.[0];
      expect(path).toBeDefined();
      expect(await probeOk(path!)).toBe(true);
    }
  });

  it('runs Redis with AOF every second and no eviction', () => {
    const command = (compose.services.redis.command as string[]).join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--appendfsync everysec');
    expect(command).toContain('--maxmemory-policy noeviction');
  });
});

describe('Kubernetes manifests', () => {
  const docs = k8sManifests();
  const find = (kind: string, name?: string) =>
    docs
      .filter(({ doc }) => doc.kind === kind && (!name || doc.metadata.name === name))
      .map(({ doc }) => doc);
  const one = (kind: string, name: string): Manifest => {
    const found = find(kind, name);
    expect(found, `${kind}/${name}`).toHaveLength(1);
    return found[0]!;
  };
  const deployments = find('Deployment');
  const envMap = one('ConfigMap', 'switchboard-env').data as Record<string, string>;
  const secret = one('Secret', 'switchboard-secrets').stringData as Record<string, string>;
  const hubYaml = (one('ConfigMap', 'switchboard-config').data as Record<string, string>)['hub.yaml']!;
  const hubConfig = parseDocument(hubYaml).toJS() as {
    queue: { partitions: number };
    workflows: { dir: string };
  };

  it('has an ingress and a worker Deployment running `switchboard start --role …`', () => {
    const roles = deployments.map((d) => {
      const container = d.spec.template.spec.containers[0];
      const role = roleOf(container.args);
      expect(d.spec.template.metadata.labels['app.kubernetes.io/component']).toBe(role);
      expect(d.spec.selector.matchLabels).toEqual(d.spec.template.metadata.labels);
      return role;
    });
    expect(roles.sort()).toEqual(['ingress', 'worker']);
  });

  it('probes /readyz and /healthz on the container port the hub listens on', async () => {
    expect(Number(envMap.PORT)).toBe(DEFAULT_PORT);
    for (const d of deployments) {
      const c = d.spec.template.spec.containers[0];
      const port = c.ports.find((p: { name: string }) => p.name === 'http');
      expect(port.containerPort).toBe(Number(envMap.PORT));
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      for (const probe of [c.readinessProbe, c.livenessProbe]) {
        expect(probe.httpGet.port).toBe('http');
        expect(await probeOk(probe.httpGet.path)).toBe(true);
      }
      expect(d.spec.template.metadata.annotations['prometheus.io/path']).toBe('/metrics');
    }
  });

  it('reads only env names of the env schema, from config maps and secrets that exist', () => {
    for (const name of Object.keys(envMap)) expect(HUB_ENV, name).toContain(name);
    for (const d of deployments) {
      const c = d.spec.template.spec.containers[0];
      for (const from of c.envFrom) expect(find('ConfigMap', from.configMapRef.name)).toHaveLength(1);
      for (const e of c.env) {
        expect(HUB_ENV, e.name).toContain(e.name);
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) {
          expect(ref.name).toBe('switchboard-secrets');
          expect(Object.keys(secret)).toContain(ref.key);
        }
      }
      expect(c.env.map((e: { name: string }) => e.name)).toEqual(
        expect.arrayContaining(['DATABASE_URL', 'REDIS_URL']),
      );
    }
  });

  it('mounts hub.yaml at CONFIG_DIR and the workflows where hub.yaml says, both valid', async () => {
    for (const d of deployments) {
      const mounts = d.spec.template.spec.containers[0].volumeMounts as { name: string; mountPath: string }[];
      const volumes = d.spec.template.spec.volumes as { name: string; configMap?: { name: string } }[];
      const mountOf = (configMap: string) =>
        mounts.find((m) => volumes.find((v) => v.name === m.name)?.configMap?.name === configMap)?.mountPath;
      expect(mountOf('switchboard-config')).toBe(envMap.CONFIG_DIR);
      expect(mountOf('switchboard-workflows')).toBe(hubConfig.workflows.dir);
    }
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-k8s-config-'));
    try {
      writeFileSync(join(dir, 'hub.yaml'), hubYaml);
      const checked = await checkHubConfig(join(dir, 'hub.yaml'), new ChannelTypeRegistry(allChannelTypes));
      expect(checked.issues).toEqual([]);
      const workflows = one('ConfigMap', 'switchboard-workflows').data as Record<string, string>;
      const files = Object.entries(workflows).map(([name, text]) => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      });
      const result = await validatePaths(files, dir);
      expect(result.issues).toEqual([]);
      expect(result.workflows).toBe(files.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drains workers within the grace period and routes the Service to the ingress', () => {
    const worker = one('Deployment', 'switchboard-worker');
    // The default run timeout (60 s) plus the reply flush (5 s) must fit.
    expect(worker.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(65);
    const ingress = one('Deployment', 'switchboard-ingress');
    const service = one('Service', 'switchboard');
    expect(ingress.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(worker.spec.template.metadata.labels).not.toMatchObject(service.spec.selector);
    expect(service.spec.ports[0].targetPort).toBe('http');
  });

  it('scales workers on an external queue-depth metric built from metrics the hub exports', async () => {
    const hpa = one('HorizontalPodAutoscaler', 'switchboard-worker');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'switchboard-worker' });
    expect(hpa.spec.maxReplicas).toBeLessThanOrEqual(hubConfig.queue.partitions);
    const external = hpa.spec.metrics.find((m: { type: string }) => m.type === 'External').external;
    const rules = parseDocument(readDeploy('k8s/prometheus-adapter-rules.yaml')).toJS().rules.external as {
      name: { as: string };
      seriesQuery: string;
      metricsQuery: string;
    }[];
    const rule = rules.find((r) => r.name.as === external.metric.name);
    expect(rule, external.metric.name).toBeDefined();
    for (const expr of [rule!.seriesQuery, rule!.metricsQuery]) {
      const names = hubMetricNames(expr);
      expect(names).toEqual(['switchboard_queue_jobs']);
      for (const name of names) expect(await unknownSeries(name)).toBeUndefined();
    }
  });

  it('lists every manifest in the kustomization, and not the example secret', () => {
    const kustomization = parseDocument(readDeploy('k8s/kustomization.yaml')).toJS() as {
      resources: string[];
      images: { name: string }[];
    };
    for (const file of kustomization.resources)
      expect(existsSync(join(ROOT, 'deploy/k8s', file)), file).toBe(true);
    expect(kustomization.resources).not.toContain('secret.example.yaml');
    for (const d of deployments)
      expect(d.spec.template.spec.containers[0].image).toBe(kustomization.images[0]!.name);
  });
});
