#!/usr/bin/env node
// `npx lifeline …`: runs the TypeScript CLI in this very process through tsx's loader, so
// signals (Ctrl-C to the agent) and the exit code need no forwarding.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../src/cli/main.ts');
process.exitCode = await run(process.argv.slice(2));
