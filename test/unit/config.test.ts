import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { adminTokenWarning, ConfigError, loadConfig, notifierWithoutApi, redact, ROLES } from '../../src/config.ts';
import { decodeSecretKey } from '../../src/secrets.ts';

describe('loadConfig', () => {
  it('gives every variable its documented default', () => {
    const c = loadConfig({});
    assert.equal(c.databaseUrl, undefined, 'unset: the embedded Postgres');
    assert.equal(c.dataDir, join(process.cwd(), '.lifeline'));
    assert.equal(c.redisUrl, undefined, 'no REDIS_URL: the queues run on Postgres');
    assert.equal(c.port, 8080);
    assert.equal(c.host, '0.0.0.0');
    assert.deepEqual([...c.roles].sort(), [...ROLES].sort());
    assert.equal(c.adminToken, undefined);
    assert.equal(c.evaluatorIntervalMs, 1000);
    assert.equal(c.queuePrefix, 'lifeline');
    assert.equal(c.autoRegister, true);
    assert.equal(c.smtpUrl, undefined);
    assert.equal(c.mailFrom, 'lifeline@localhost');
    assert.equal(c.logLevel, 'info');
    assert.equal(c.ingestFlushMs, 250);
    assert.equal(c.drainMs, 10_000);
    assert.equal(c.heldRequestsMax, 1024);
    assert.equal(c.outboxPollMs, 1000);
    assert.equal(c.outboxWorkers, 2);
    assert.equal(c.dbPoolMax, 12);
    assert.equal(c.outboxMaxAttempts, 10);
    assert.equal(c.stormThreshold, 20);
    assert.equal(c.digestIntervalMs, 60_000);
    assert.equal(c.deliveryBackoffMs, 1000);
    assert.equal(c.deliveryConcurrency, 256);
    assert.equal(c.deliveryLeaseMs, 120_000);
    assert.equal(c.secretKey, undefined);
    assert.deepEqual(c.limits, { authFailuresPerMinute: 100, nodeTokenPerMinute: 1200, registrationsPerHour: 1000, pingsPerMinute: 600, publicRequestsPerMinute: 1200 });
  });

  it('reads every per-caller limit into one place, 0 turning one off', () => {
    const variables = ['LIFELINE_AUTH_FAILURE_LIMIT', 'LIFELINE_NODE_TOKEN_RATE_LIMIT', 'LIFELINE_AUTO_REGISTER_LIMIT', 'LIFELINE_PING_RATE_LIMIT', 'LIFELINE_PUBLIC_RATE_LIMIT'];
    const { limits } = loadConfig(Object.fromEntries(variables.map((name, i) => [name, String((i + 5) % 9)])));
    assert.deepEqual(limits, { authFailuresPerMinute: 5, nodeTokenPerMinute: 6, registrationsPerHour: 7, pingsPerMinute: 8, publicRequestsPerMinute: 0 });
  });

  it('reads set values', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgresql://u:p@db:5433/x',
      PORT: '9090',
      LIFELINE_ROLES: 'api, evaluator',
      LIFELINE_AUTO_REGISTER: 'false',
      LIFELINE_EVALUATOR_INTERVAL_MS: '250',
      SMTP_URL: 'smtp://mail:1025',
      MAIL_FROM: 'Lifeline <oncall@example.com>',
      LIFELINE_ADMIN_TOKEN: 'a-long-enough-admin-token',
    });
    assert.equal(c.port, 9090);
    assert.deepEqual([...c.roles], ['api', 'evaluator']);
    assert.equal(c.autoRegister, false);
    assert.equal(c.evaluatorIntervalMs, 250);
    assert.equal(c.smtpUrl, 'smtp://mail:1025');
    assert.equal(c.mailFrom, 'Lifeline <oncall@example.com>');
  });

  it('takes LIFELINE_HELD_REQUESTS_MAX from 0 (hold none) to 65536', () => {
    const held = (v: string) => loadConfig({ DATABASE_URL: 'postgresql://u:p@db/x', LIFELINE_HELD_REQUESTS_MAX: v }).heldRequestsMax;
    assert.deepEqual([held('0'), held('65536')], [0, 65_536]);
    for (const bad of ['-1', '65537']) assert.throws(() => held(bad), ConfigError);
  });

  it('gives LIFELINE_PUBLIC_URL as the parsed URL writes it, without a trailing slash', () => {
    // Every address the engine gives out is this plus a path, some of them inside HTML snippets.
    assert.equal(loadConfig({ LIFELINE_PUBLIC_URL: 'HTTPS://Lifeline.Example.com:443/base/' }).publicUrl, 'https://lifeline.example.com/base');
    assert.equal(loadConfig({ LIFELINE_PUBLIC_URL: 'https://lifeline.example.com/a"b<c>//' }).publicUrl, 'https://lifeline.example.com/a%22b%3Cc%3E');
    assert.equal(loadConfig({ LIFELINE_PUBLIC_URL: 'http://127.0.0.1:8080' }).publicUrl, 'http://127.0.0.1:8080');
  });

  it('refuses a LIFELINE_PUBLIC_URL with a user name, password, query or fragment, never echoing a password', () => {
    for (const raw of ['https://ops:hunter2@lifeline.example.com', 'https://ops@lifeline.example.com/', 'https://:hunter2@lifeline.example.com']) {
      assert.throws(
        () => loadConfig({ LIFELINE_PUBLIC_URL: raw }),
        (err: Error) => err instanceof ConfigError && /^LIFELINE_PUBLIC_URL: must not hold a user name or password/.test(err.message) && !err.message.includes('hunter2'),
        raw,
      );
    }
    for (const raw of ['https://lifeline.example.com/?x=1', 'https://lifeline.example.com/base?', 'https://lifeline.example.com/#top', 'https://lifeline.example.com#']) {
      assert.throws(() => loadConfig({ LIFELINE_PUBLIC_URL: raw }), /^ConfigError: LIFELINE_PUBLIC_URL: must not have a query or fragment/, raw);
    }
  });

  it('warns at start of an admin token shorter than 32 characters, and takes it', () => {
    const short = 'sixteen-chars-ok';
    assert.equal(loadConfig({ LIFELINE_ADMIN_TOKEN: short }).adminToken, short);
    assert.match(adminTokenWarning(short) ?? '', /^LIFELINE_ADMIN_TOKEN has 16 characters: .*32 or more/);
    assert.equal(adminTokenWarning('x'.repeat(32)), undefined);
    assert.equal(adminTokenWarning(undefined), undefined);
  });

  it('treats empty strings as unset', () => {
    assert.equal(loadConfig({ PORT: '', SMTP_URL: '' }).port, 8080);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['PORT', 'eighty', /PORT: must be an integer/],
    ['PORT', '70000', /PORT: must be between 0 and 65535/],
    ['DATABASE_URL', 'not a url', /DATABASE_URL: must be a URL/],
    ['DATABASE_URL', 'mysql://localhost/x', /DATABASE_URL: must use postgres: or postgresql:/],
    ['REDIS_URL', 'http://localhost', /REDIS_URL: must use redis: or rediss:/],
    ['LIFELINE_ROLES', 'api,cooking', /LIFELINE_ROLES: unknown role "cooking"/],
    ['LIFELINE_ROLES', ',', /LIFELINE_ROLES: must name at least one role/],
    ['LIFELINE_EVALUATOR_INTERVAL_MS', '0', /LIFELINE_EVALUATOR_INTERVAL_MS: must be between 10 and 60000/],
    ['LIFELINE_EVALUATOR_INTERVAL_MS', '1.5', /LIFELINE_EVALUATOR_INTERVAL_MS: must be an integer/],
    ['LIFELINE_AUTO_REGISTER', 'maybe', /LIFELINE_AUTO_REGISTER: must be true or false/],
    ['LIFELINE_QUEUE_PREFIX', 'has space', /LIFELINE_QUEUE_PREFIX/],
    ['LIFELINE_ADMIN_TOKEN', 'short', /LIFELINE_ADMIN_TOKEN: must be at least 16 characters/],
    ['LIFELINE_METRICS_TOKEN', 'short', /LIFELINE_METRICS_TOKEN: must be at least 16 printable/],
    ['LIFELINE_METRICS_TOKEN', 'has a space in it somewhere', /LIFELINE_METRICS_TOKEN: must be at least 16 printable/],
    ['SMTP_URL', 'http://mail', /SMTP_URL: must use smtp: or smtps:/],
    ['LIFELINE_PUBLIC_URL', 'localhost:18821', /LIFELINE_PUBLIC_URL: must start with http:\/\/ or https:\/\/, got "localhost:18821": add http:\/\/ or https:\/\/ in front/],
    ['REDIS_URL', 'redis-host:6379', /REDIS_URL: must start with redis:\/\/ or rediss:\/\/, got "redis-host:6379"/],
    ['MAIL_FROM', 'nobody', /MAIL_FROM: must be an email address/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL: must be one of/],
    ['LIFELINE_OUTBOX_WORKERS', '0', /LIFELINE_OUTBOX_WORKERS: must be between 1 and 64/],
    ['LIFELINE_DB_POOL_MAX', '3', /LIFELINE_DB_POOL_MAX: must be between 4 and 1000/],
    ['LIFELINE_STORM_THRESHOLD', '0', /LIFELINE_STORM_THRESHOLD: must be between 1 and 100000/],
    ['LIFELINE_DIGEST_INTERVAL_MS', 'hourly', /LIFELINE_DIGEST_INTERVAL_MS: must be an integer/],
    ['LIFELINE_DELIVERY_BACKOFF_MS', '5', /LIFELINE_DELIVERY_BACKOFF_MS: must be between 10 and 600000/],
    ['LIFELINE_DELIVERY_LEASE_MS', '5000', /LIFELINE_DELIVERY_LEASE_MS: must be between 20000 and 3600000/],
    ['LIFELINE_SECRET_KEY', 'too-short', /LIFELINE_SECRET_KEY: must be 32 bytes/],
    ['LIFELINE_SECRET_KEY', 'ab'.repeat(31), /LIFELINE_SECRET_KEY: must be 32 bytes/],
    ['LIFELINE_SECRET_KEY', 'g'.repeat(64), /LIFELINE_SECRET_KEY: must be 32 bytes/],
    ['LIFELINE_SECRET_KEY', Buffer.alloc(31, 1).toString('base64'), /LIFELINE_SECRET_KEY: must be 32 bytes/],
    ['LIFELINE_SECRET_KEY', Buffer.alloc(33, 1).toString('base64'), /LIFELINE_SECRET_KEY: must be 32 bytes/],
  ];
  for (const [name, value, message] of bad) {
    it(`rejects ${name}=${value} naming the variable`, () => {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (err: unknown) => err instanceof ConfigError && err.variable === name && message.test(err.message),
      );
    });
  }

  it('leaves LIFELINE_ADMIN_TOKEN unchecked without the api role, which alone applies it', () => {
    // A worker or an evaluator given the cluster's environment refused to start on a value it ignores.
    for (const roles of ['outbox,notifier', 'evaluator']) {
      assert.equal(loadConfig({ LIFELINE_ROLES: roles, LIFELINE_ADMIN_TOKEN: 'short' }).adminToken, 'short');
      assert.doesNotThrow(() => loadConfig({ LIFELINE_ROLES: roles, LIFELINE_ADMIN_TOKEN: 'lifeline-demo-admin-token' }), roles);
    }
    assert.throws(() => loadConfig({ LIFELINE_ROLES: 'api', LIFELINE_ADMIN_TOKEN: 'lifeline-demo-admin-token' }), /demo value/);
  });

  it('accepts a 32-byte secret key as hex, base64 or base64url, and decodes each to the same key', () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => 250 - i * 3));
    for (const raw of [key.toString('hex'), key.toString('hex').toUpperCase(), key.toString('base64'), key.toString('base64url')]) {
      assert.equal(loadConfig({ LIFELINE_SECRET_KEY: raw }).secretKey, raw);
      assert.deepEqual(decodeSecretKey(raw), key, raw);
    }
  });

  it('never echoes a secret key in an error', () => {
    const raw = 'hunter2'.repeat(6);
    assert.throws(
      () => loadConfig({ LIFELINE_SECRET_KEY: raw }),
      (err: unknown) => err instanceof ConfigError && !err.message.includes('hunter2'),
    );
  });

  it('keeps 90 days of hourly and 1095 days of daily uptime rows unless told otherwise', () => {
    const defaults = loadConfig({});
    assert.equal(defaults.uptimeHourlyRetentionDays, 90);
    assert.equal(defaults.uptimeDailyRetentionDays, 1095);
    const set = loadConfig({ LIFELINE_UPTIME_HOURLY_RETENTION_DAYS: '30', LIFELINE_UPTIME_DAILY_RETENTION_DAYS: '30' });
    assert.equal(set.uptimeHourlyRetentionDays, 30);
    assert.equal(set.uptimeDailyRetentionDays, 30);
  });

  const badRetention: Array<[Record<string, string>, string, RegExp]> = [
    [{ LIFELINE_UPTIME_HOURLY_RETENTION_DAYS: '0' }, 'LIFELINE_UPTIME_HOURLY_RETENTION_DAYS', /must be between 1 and 3660/],
    [{ LIFELINE_UPTIME_HOURLY_RETENTION_DAYS: 'ninety' }, 'LIFELINE_UPTIME_HOURLY_RETENTION_DAYS', /must be an integer/],
    [{ LIFELINE_UPTIME_DAILY_RETENTION_DAYS: '36601' }, 'LIFELINE_UPTIME_DAILY_RETENTION_DAYS', /must be between 1 and 36600/],
    [{ LIFELINE_UPTIME_DAILY_RETENTION_DAYS: '60' }, 'LIFELINE_UPTIME_DAILY_RETENTION_DAYS', /must be at least LIFELINE_UPTIME_HOURLY_RETENTION_DAYS \(90\)/],
  ];
  for (const [env, variable, message] of badRetention) {
    it(`rejects uptime retention ${JSON.stringify(env)} naming ${variable}`, () => {
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => err instanceof ConfigError && err.variable === variable && message.test(err.message),
      );
    });
  }

  it('never echoes a database password in an error', () => {
    assert.throws(
      () => loadConfig({ DATABASE_URL: 'mysql://user:hunter2@db/x' }),
      (err: unknown) => err instanceof ConfigError && !err.message.includes('hunter2'),
    );
  });
});

describe('redact', () => {
  const cases: Array<[string, string]> = [
    ['redis://:redispw@127.0.0.1:6399/8', 'redis://:***@127.0.0.1:6399/8'],
    ['redis://default:redispw@127.0.0.1:6399/8', 'redis://default:***@127.0.0.1:6399/8'],
    ['postgres://lifeline:pgpw@db:5432/lifeline', 'postgres://lifeline:***@db:5432/lifeline'],
    ['smtp://user:smtppw@mail:587', 'smtp://user:***@mail:587'],
    ['https://u:webpw@example.com/hook', 'https://u:***@example.com/hook'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    // Not a URL on its own: each URL in the text is masked.
    ['connect ECONNREFUSED redis://:redispw@127.0.0.1:6399 and smtp://u:smtppw@mail', 'connect ECONNREFUSED redis://:***@127.0.0.1:6399 and smtp://u:***@mail'],
    ['postgres://u:p w@host/db', 'postgres://u:***@host/db'],
    // A token as the user name; a password holding `@` or `/` unescaped.
    ['https://ghp_T0KEN@example.com/hook', 'https://***@example.com/hook'],
    ['redis://u:p@ss@host:6379', 'redis://u:***@host:6379'],
    ['smtp://u:pa/ss@mail:587', 'smtp://u:***@mail:587'],
    ['failed: smtp://u:pa/ss@mail and https://T0KEN@example.com/x', 'failed: smtp://u:***@mail and https://***@example.com/x'],
    ['https://example.com/a@b', 'https://example.com/a@b'],
    // A password of digits and a `/`: it parses as a port and a path, and is masked all the same.
    ['postgres://u:1234/abc@host/db', 'postgres://u:***@host/db'],
    ['redis://u:99?x@host:6379', 'redis://u:***@host:6379'],
  ];
  for (const [raw, shown] of cases) {
    it(`shows ${raw} as ${shown}`, () => assert.equal(redact(raw), shown));
  }

  it('never echoes a password in a URL that fails to parse', () => {
    assert.throws(() => loadConfig({ DATABASE_URL: 'postgres://u:pgpw@[bad/db' }), (err: Error) => !err.message.includes('pgpw'));
  });

  it('never echoes a password in a URL given without its scheme', () => {
    assert.throws(
      () => loadConfig({ DATABASE_URL: 'user:pgpw@host:5432/db' }),
      (err: Error) => /must start with postgres:\/\/ or postgresql:\/\/, got "\*\*\*@host:5432\/db"/.test(err.message) && !err.message.includes('pgpw'),
    );
  });
});

describe('notifierWithoutApi: whether Redis counts for /readyz', () => {
  it('counts only for a notifier without the api role', () => {
    assert.equal(notifierWithoutApi(new Set(ROLES)), false, 'LIFELINE_ROLES=all takes heartbeats');
    assert.equal(notifierWithoutApi(new Set(['api', 'notifier'] as const)), false);
    assert.equal(notifierWithoutApi(new Set(['outbox', 'notifier'] as const)), true);
    assert.equal(notifierWithoutApi(new Set(['api', 'evaluator'] as const)), false);
  });
});

describe('loadConfig: a URL that does not parse', () => {
  it('names it without any of the password between :// and the last @', () => {
    assert.throws(
      () => loadConfig({ DATABASE_URL: 'postgres://u:pg/pw@host/db' }),
      (err: Error) => err.message.includes('must be a URL, got "postgres://***@host/db"') && !/pg\/pw|u:pg/.test(err.message),
    );
  });
});
