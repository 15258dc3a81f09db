/** Reading the deployment artefacts under deploy/ for the tests that keep them honest. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { envObjectSchema } from '../../src/config/env.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const DEPLOY = join(ROOT, 'deploy');

/** Every environment variable the hub reads, straight from the schema (a rename breaks the tests). */
export const HUB_ENV = new Set(Object.keys(envObjectSchema.shape));
/** The default PORT, from the schema. */
export const DEFAULT_PORT = envObjectSchema.shape.PORT.parse(undefined);

// biome-ignore lint/suspicious/noExplicitAny: parsed manifests are walked freely by the assertions
export type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [key: string]: any };

/** Every document of every YAML file in deploy/k8s, by file. */
export function k8sManifests(): { file: string; doc: Manifest }[] {
  const dir = join(DEPLOY, 'k8s');
  const out: { file: string; doc: Manifest }[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      const value = doc.toJS() as Manifest | null;
      if (value) out.push({ file, doc: value });
    }
  }
  return out;
}

export function readDeploy(path: string): string {
  return readFileSync(join(DEPLOY, path), 'utf8');
}
