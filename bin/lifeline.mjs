#!/usr/bin/env node
// `npx lifeline …`: the CLI as compiled by `npm run build` (run by `npm ci` and `npm install`), in
// this very process, so signals (Ctrl-C to the agent) and the exit code need no forwarding.
const { run } = await import('../dist/src/cli/main.js');
process.exitCode = await run(process.argv.slice(2));
