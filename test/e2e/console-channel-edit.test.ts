import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withConsoleInBrowser } from '../helpers/console-browser.ts';
import { verifyWebhook } from '../helpers/standard-webhooks.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

// Moving a webhook in a browser, as an operator does who no longer has the secret the engine
// generated and showed once: change only the URL, Save, and be shown the new secret, which the
// receiver at the new URL then checks the test's signature with.

describe('editing a channel in the console, in a browser', () => {
  it('moves a webhook to a new URL with the secret left empty and shows its new secret once', async () => {
    const hook = await startWebhookReceiver();
    try {
      await withConsoleInBrowser({ key: 'console admin', scope: 'admin' }, async ({ h, open }) => {
        const made = (await (await h.admin('POST', '/v1/channels', { name: 'ops hook', type: 'webhook', config: { url: `${hook.url}/old` } })).json()) as { id: string };
        const { page, problems } = await open(`/channels/${made.id}`);
        await page.getByLabel('URL', { exact: true }).fill(`${hook.url}/new`);
        assert.equal(await page.getByLabel('Signing secret').inputValue(), '');
        await page.getByRole('button', { name: 'Save' }).click();
        const notice = page.getByText('Saved with a new URL, so with a new signing secret, shown only now');
        await notice.waitFor();
        const secret = (await page.locator('p.secret').textContent()) ?? '';
        assert.match(secret, /^whsec_/);
        assert.equal(await page.locator('.field .error').count(), 0);
        await page.getByRole('button', { name: 'Send a test' }).click();
        await page.getByText('The test was sent: the receiver accepted it.').waitFor();
        const got = await hook.waitFor();
        assert.match(got.path, /\/new$/);
        assert.equal(verifyWebhook(secret, got.headers, got.body, h.clock.now()), true);
        // The page the test came back to no longer shows the secret.
        assert.equal(await page.locator('p.secret').count(), 0);
        assert.deepEqual(problems, []);
      });
    } finally {
      await hook.close();
    }
  });
});
