import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstAdminCommands } from '../../workers/first-admin.ts';
import { cliUrl } from '../../workers/listen.ts';

describe('the commands the first-run line gives', () => {
  it('need no variables for an engine on the defaults: PORT 8080 on every interface, .lifeline in its directory', () => {
    const place = { dataDir: '/srv/lifeline/.lifeline', embedded: true, apiUrl: cliUrl(undefined, '0.0.0.0', 8080) };
    assert.deepEqual(firstAdminCommands(place, '/srv/lifeline/.lifeline/admin-secret', '/srv/lifeline'), {
      keys: 'export LIFELINE_TOKEN=$(cat /srv/lifeline/.lifeline/admin-secret); npx lifeline keys create --name you --scope admin',
      admin: 'npx lifeline admin create-key --name you',
    });
  });

  it('carry the URL of another port, host or public URL, and a data directory elsewhere, quoted for the shell', () => {
    const place = { dataDir: "/srv/Bob's data", embedded: true, apiUrl: cliUrl(undefined, '::', 9090) };
    assert.deepEqual(firstAdminCommands(place, "/srv/Bob's data/admin-secret", '/srv/lifeline'), {
      keys: `export LIFELINE_URL=http://127.0.0.1:9090 LIFELINE_TOKEN=$(cat '/srv/Bob'\\''s data/admin-secret'); npx lifeline keys create --name you --scope admin`,
      admin: `LIFELINE_DATA_DIR='/srv/Bob'\\''s data' npx lifeline admin create-key --name you`,
    });
    assert.equal(cliUrl(undefined, '10.0.0.5', 8080), 'http://10.0.0.5:8080');
    assert.equal(cliUrl(undefined, '::1', 8080), 'http://[::1]:8080');
    assert.equal(cliUrl('https://lifeline.example.com', '0.0.0.0', 8080), 'https://lifeline.example.com');
  });

  it('leave LIFELINE_DATA_DIR out on DATABASE_URL, where the data directory does not say which database', () => {
    const place = { dataDir: '/elsewhere', embedded: false, apiUrl: 'http://127.0.0.1:8080' };
    assert.equal(firstAdminCommands(place, '/elsewhere/admin-secret', '/srv/lifeline').admin, 'npx lifeline admin create-key --name you');
  });
});
