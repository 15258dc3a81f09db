#!/usr/bin/env node
// Entry point for `switchboard` / `npx switchboard`. The sources are TypeScript run through tsx,
// so a checkout works with `npm ci` alone: no build step between editing and running.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
