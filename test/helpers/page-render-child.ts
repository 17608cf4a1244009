// Serves a status page and a console page through the app, then says whether a promise hook is on
// in this process: executionAsyncId() after an await is 0 unless some hook tracks promises (a test
// runner has its own, so this runs in a process of its own).
import { executionAsyncId } from 'node:async_hooks';
import { createHarness } from './app.ts';

const h = await createHarness();
const pages = await Promise.all([h.req('GET', '/status/no-such-page'), h.req('GET', '/sign-in')]);
const kinds = pages.map((r) => `${r.status} ${r.headers.get('content-type')}`);
await Promise.all(pages.map((r) => r.text()));
await null;
const asyncId = executionAsyncId();
await h.close();
process.stdout.write(JSON.stringify({ kinds, asyncId }) + '\n');
