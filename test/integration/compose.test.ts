// The Docker stack as files: compose.yaml, the Dockerfile and what they mount from ops/. Docker is
// not needed: the files are read and checked for what `docker compose up` relies on (services,
// ports, health-ordered start, mounts that exist, an engine configuration the engine accepts).

import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.ts';
import { parse as parseYaml, YAMLParseError } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(ROOT + path, 'utf8');
// `<<` merge keys are YAML 1.1; under YAML 1.2 they are opt-in, and docker compose reads them.
const parse = (text: string): unknown => parseYaml(text, { merge: true });

interface Healthcheck {
  test: string[];
}
interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(read('compose.yaml')) as Compose;
const services = compose.services;
const engineServices = Object.keys(services).filter((name) => services[name]!.build !== undefined);
const service = (name: string): Service => {
  const s = services[name];
  assert.ok(s, `compose.yaml has no service "${name}"`);
  return s;
};

/** What `docker compose` makes of `${VAR:-default}` when VAR is not set in the shell. */
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Za-z0-9_]+)(?::?-([^}]*))?\}/g, (_, _name: string, fallback?: string) => fallback ?? '');
}
const environmentOf = (name: string): Record<string, string> =>
  Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));

/** `./ops/x:/etc/x:ro` → { source: 'ops/x', target: '/etc/x' }; named volumes have no `./`. */
function bindMounts(s: Service): Array<{ source: string; target: string }> {
  return (s.volumes ?? [])
    .filter((v) => v.startsWith('./'))
    .map((v) => {
      const [source, target] = v.split(':');
      return { source: posix.normalize(source!), target: target! };
    });
}

test('the YAML reader follows anchors and merge keys and refuses duplicate keys, as docker compose does', () => {
  assert.deepEqual(parse('base: &b\n  a: 1\n  b: two\nuse:\n  <<: *b\n  b: 3\nlist: ["x", y]\n'), {
    base: { a: 1, b: 'two' },
    use: { a: 1, b: 3 },
    list: ['x', 'y'],
  });
  assert.throws(() => parse('a: 1\na: 2\n'), YAMLParseError);
});

test('defines the whole stack: Postgres, Redis, Mailpit, Prometheus, Grafana and the api, evaluator and worker services', () => {
  assert.deepEqual(Object.keys(services).sort(), ['api', 'evaluator', 'grafana', 'mailpit', 'postgres', 'prometheus', 'redis', 'worker']);
  assert.deepEqual(engineServices.sort(), ['api', 'evaluator', 'worker']);
  assert.match(service('postgres').image ?? '', /^postgres:16\b/);
  assert.match(service('redis').image ?? '', /^redis:7\b/);
});

test('publishes the API on 8080, Mailpit on 8025, Prometheus on 9090 and Grafana on 3000 to this machine only, and nothing else', () => {
  const published = Object.fromEntries(
    Object.entries(services)
      .filter(([, s]) => s.ports?.length)
      .map(([name, s]) => [name, s.ports!.map((p) => String(p))]),
  );
  assert.deepEqual(published, {
    api: ['127.0.0.1:8080:8080'],
    mailpit: ['127.0.0.1:8025:8025'],
    prometheus: ['127.0.0.1:9090:9090'],
    grafana: ['127.0.0.1:3000:3000'],
  });
});

test('runs every role once: api, two leader-elected evaluators, and a worker for outbox and notifier', () => {
  assert.equal(environmentOf('api').LIFELINE_ROLES, 'api');
  assert.equal(environmentOf('evaluator').LIFELINE_ROLES, 'evaluator');
  assert.equal(service('evaluator').deploy?.replicas, 2);
  assert.equal(environmentOf('worker').LIFELINE_ROLES, 'outbox,notifier');
  assert.equal(environmentOf('worker').SMTP_URL, 'smtp://mailpit:1025');
});

test('gives every engine service one shared configuration that the engine accepts', () => {
  const shared = ['DATABASE_URL', 'REDIS_URL', 'LIFELINE_SECRET_KEY', 'LIFELINE_ADMIN_TOKEN'];
  const first = environmentOf(engineServices[0]!);
  for (const name of engineServices) {
    // As a demo: the only way the demo values are accepted.
    const env: Record<string, string> = { ...environmentOf(name), LIFELINE_DEMO: 'true' };
    for (const key of shared) {
      // The admin token has no fallback: unset once named keys exist (README, Security).
      if (key !== 'LIFELINE_ADMIN_TOKEN') assert.ok(env[key], `${name} has no ${key}`);
      assert.equal(env[key], first[key], `${name} has its own ${key}`);
    }
    const config = loadConfig(env);
    assert.equal(new URL(config.databaseUrl ?? '').hostname, 'postgres');
    assert.equal(new URL(config.redisUrl ?? '').hostname, 'redis');
    assert.ok(config.secretKey, `${name} has no secret key`);
    assert.equal(config.port, 8080, 'the healthcheck and Prometheus expect port 8080');
  }
  // Shared through one YAML anchor, not written out once per service.
  for (const key of shared) {
    assert.equal(read('compose.yaml').match(new RegExp(`^\\s*${key}:`, 'gm'))?.length, 1, `${key} is written more than once`);
  }
});

test('refuses to start with the demo admin token or secret key unless told this is a demo', () => {
  for (const name of engineServices) {
    const env = environmentOf(name);
    assert.equal(env.LIFELINE_DEMO, 'false');
    const secretKey = 'c2VjcmV0LWtleS1vZi10aGlydHktdHdvLWJ5dGVzLi4=';
    const own = loadConfig({ ...env, LIFELINE_ADMIN_TOKEN: 'an-operator-chosen-token', LIFELINE_SECRET_KEY: secretKey });
    // Only a process serving the API applies the admin token, so only it refuses the demo one.
    const demoToken = () => loadConfig({ ...env, LIFELINE_ADMIN_TOKEN: 'lifeline-demo-admin-token', LIFELINE_SECRET_KEY: secretKey });
    if (own.roles.has('api')) assert.throws(demoToken, /LIFELINE_ADMIN_TOKEN: .*demo/);
    else assert.doesNotThrow(demoToken);
    assert.throws(() => loadConfig({ ...env, LIFELINE_ADMIN_TOKEN: 'an-operator-chosen-token' }), /LIFELINE_SECRET_KEY: .*demo/);
    assert.equal(own.adminToken, 'an-operator-chosen-token');
    // After bootstrapping, the token is unset (the next start revokes its key): compose must let it be.
    assert.equal(loadConfig({ ...env, LIFELINE_SECRET_KEY: secretKey }).adminToken, undefined);
  }
});

test('builds all engine services as one image from the Dockerfile', () => {
  const images = new Set(engineServices.map((name) => service(name).image));
  assert.equal(images.size, 1, 'engine services share one image name, so it is built once');
  for (const name of engineServices) assert.equal(service(name).build, '.');
});

test('every service has a healthcheck that uses a command its image has', () => {
  // What each image ships to probe itself with.
  const probes: Record<string, RegExp> = {
    postgres: /^pg_isready\b/,
    redis: /^redis-cli ping$/,
    mailpit: /^\/mailpit readyz$/,
    prometheus: /^wget .*http:\/\/127\.0\.0\.1:9090\/-\/(ready|healthy)$/,
    grafana: /^(wget|curl) .*http:\/\/127\.0\.0\.1:3000\/api\/health$/,
  };
  for (const [name, s] of Object.entries(services)) {
    const check = s.healthcheck?.test;
    assert.ok(check?.length, `${name} has no healthcheck`);
    const [kind, ...args] = check;
    assert.ok(kind === 'CMD' || kind === 'CMD-SHELL', `${name}: healthcheck test must start with CMD or CMD-SHELL`);
    const command = args.join(' ');
    if (engineServices.includes(name)) {
      assert.equal(args[0], 'node', `${name}: the engine image has node, not curl or wget`);
      assert.match(command, /fetch\('http:\/\/127\.0\.0\.1:8080\/readyz'\)/);
    } else {
      assert.match(command, probes[name]!, `${name}: unexpected healthcheck "${command}"`);
    }
  }
});

test('starts in order: engine services wait for healthy Postgres and Redis, the worker for Mailpit, Grafana for Prometheus', () => {
  const healthy = (name: string) => Object.entries(service(name).depends_on ?? {}).filter(([, d]) => d.condition === 'service_healthy').map(([dep]) => dep);
  for (const name of engineServices) {
    for (const dep of ['postgres', 'redis']) assert.ok(healthy(name).includes(dep), `${name} does not wait for a healthy ${dep}`);
  }
  assert.ok(healthy('worker').includes('mailpit'));
  assert.ok(healthy('grafana').includes('prometheus'));
  for (const [name, s] of Object.entries(services)) {
    for (const [dep, d] of Object.entries(s.depends_on ?? {})) {
      assert.ok(services[dep], `${name} depends on unknown service ${dep}`);
      if (d.condition === 'service_healthy') assert.ok(services[dep]!.healthcheck, `${name} waits for ${dep}, which has no healthcheck`);
    }
  }
});

test('Redis refuses to evict queued jobs and keeps them on a volume with AOF', () => {
  const command = (service('redis').command ?? []).join(' ');
  assert.match(command, /--maxmemory-policy noeviction/);
  assert.match(command, /--appendonly yes/);
  assert.ok(service('redis').volumes?.some((v) => v.endsWith(':/data')));
});

test('every engine keeps /data, where the first admin secret is written, on one named volume that outlives `down`', () => {
  const mounts = engineServices.map((name) => service(name).volumes?.find((v) => v.endsWith(':/data')));
  assert.ok(mounts[0] && !mounts[0].startsWith('/') && !mounts[0].startsWith('./'), `no named volume at /data: ${mounts[0]}`);
  for (const m of mounts) assert.equal(m, mounts[0]);
});

test('every file or folder mounted from the repository exists, and every named volume is declared', () => {
  for (const [name, s] of Object.entries(services)) {
    for (const { source } of bindMounts(s)) assert.ok(existsSync(ROOT + source), `${name} mounts ${source}, which does not exist`);
    for (const v of s.volumes ?? []) {
      if (v.startsWith('./') || v.startsWith('/')) continue;
      const volume = v.split(':')[0]!;
      assert.ok(compose.volumes && volume in compose.volumes, `${name} uses volume ${volume}, which is not declared`);
    }
  }
});

test('Prometheus finds every engine service through DNS and loads the mounted alert rules', () => {
  const mounts = bindMounts(service('prometheus'));
  const configMount = mounts.find((m) => m.target === '/etc/prometheus/prometheus.yml');
  assert.ok(configMount, 'prometheus.yml is not mounted where the image reads it');
  const config = parse(read(configMount.source)) as {
    rule_files: string[];
    scrape_configs: Array<{ job_name: string; dns_sd_configs?: Array<{ names: string[]; type: string; port: number }> }>;
  };
  const discovered = config.scrape_configs
    .filter((job) => job.job_name.startsWith('lifeline'))
    .flatMap((job) => job.dns_sd_configs ?? [])
    .flatMap((sd) => {
      assert.equal(sd.type, 'A');
      assert.equal(sd.port, 8080);
      return sd.names;
    });
  assert.deepEqual(discovered.sort(), [...engineServices].sort());
  assert.ok(config.rule_files.length > 0);
  for (const rules of config.rule_files) {
    // Relative rule files are resolved next to the config file, inside the container and here.
    const inContainer = posix.join('/etc/prometheus', rules);
    const mounted = mounts.find((m) => m.target === inContainer);
    assert.ok(mounted, `${rules} is not mounted at ${inContainer}`);
    assert.equal(mounted.source, posix.join(posix.dirname(configMount.source), rules));
  }
});

test('Grafana provisions the prometheus datasource and the dashboard folder it mounts', () => {
  const mounts = bindMounts(service('grafana'));
  const provisioning = mounts.find((m) => m.target === '/etc/grafana/provisioning');
  assert.ok(provisioning, 'the provisioning folder is not mounted');
  const datasources = parse(read(`${provisioning.source}/datasources/prometheus.yaml`)) as { datasources: Array<{ uid: string; type: string; url: string }> };
  assert.deepEqual(
    datasources.datasources.map((d) => [d.uid, d.type, d.url]),
    [['prometheus', 'prometheus', 'http://prometheus:9090']],
  );
  const providers = parse(read(`${provisioning.source}/dashboards/lifeline.yaml`)) as { providers: Array<{ type: string; options: { path: string } }> };
  for (const provider of providers.providers) {
    assert.equal(provider.type, 'file');
    const folder = mounts.find((m) => m.target === provider.options.path);
    assert.ok(folder, `dashboards are read from ${provider.options.path}, which is not mounted`);
    assert.ok(statSync(ROOT + folder.source).isDirectory());
    assert.ok(existsSync(`${ROOT}${folder.source}/lifeline.json`));
  }
  const env = environmentOf('grafana');
  const home = env.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
  const homeMount = mounts.find((m) => home.startsWith(m.target + '/'));
  assert.ok(homeMount && existsSync(ROOT + homeMount.source + home.slice(homeMount.target.length)), `home dashboard ${home} is not mounted`);
  assert.ok(env.GF_AUTH_ANONYMOUS_ENABLED === 'true' || env.GF_SECURITY_ADMIN_PASSWORD === 'admin', 'no documented way in');
});

test('the Dockerfile is multi-stage, installs production dependencies only and runs the compiled engine as the node user', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const from = instructions.filter((l) => /^FROM\s/i.test(l));
  assert.ok(from.length >= 2, 'expected a multi-stage build');
  assert.ok(instructions.some((l) => /^RUN\b.*\bnpm ci\b.*--omit=dev\b/.test(l)), 'npm ci --omit=dev is missing');
  assert.ok(instructions.some((l) => /^COPY\s+--from=/.test(l)), 'the runtime stage does not take the installed dependencies');
  // The last USER applies to the runtime stage and must not be root.
  const runtime = instructions.slice(instructions.lastIndexOf(from.at(-1)!));
  const users = runtime.filter((l) => /^USER\s/.test(l));
  assert.ok(users.length > 0, 'the runtime stage has no USER');
  assert.doesNotMatch(users.at(-1)!, /^USER\s+(root|0)(:|\s|$)/);
  for (const dir of ['src', 'workers', 'alerting', 'sql']) {
    assert.ok(instructions.some((l) => new RegExp(`^COPY\\s+${dir}\\s`).test(l)), `${dir}/ is not copied`);
  }
  // The image starts what `npm start` starts: the JavaScript that `npm ci` compiled (its prepare
  // script) in a stage with the dev dependencies, copied into the runtime stage.
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; dependencies: Record<string, string> };
  const cmd = runtime.filter((l) => /^CMD\s/.test(l)).at(-1);
  assert.ok(cmd, 'the runtime stage has no CMD');
  assert.deepEqual(JSON.parse(cmd.slice('CMD'.length)), pkg.scripts.start!.split(' '));
  const stage = runtime.map((l) => /^COPY\s+--from=(\S+)\s+\/app\/dist\s/.exec(l)?.[1]).find(Boolean);
  assert.ok(stage, 'the runtime stage does not take the compiled dist/');
  const start = instructions.findIndex((l) => new RegExp(`^FROM\\s.*\\sAS\\s+${stage}$`, 'i').test(l));
  const end = instructions.findIndex((l, i) => i > start && /^FROM\s/i.test(l));
  const build = instructions.slice(start, end);
  assert.ok(build.some((l) => /^RUN\b.*\bnpm ci\b/.test(l) && !/--omit=dev|--ignore-scripts/.test(l)), `stage ${stage} does not run npm ci with its prepare script`);
  assert.match(pkg.scripts.prepare ?? '', /\bbuild\b/);
  // Without DATABASE_URL the embedded Postgres and the first admin secret go to LIFELINE_DATA_DIR,
  // which the node user must be able to write: the default, ./.lifeline in root's /app, was EACCES.
  const dataDir = runtime.map((l) => /^ENV\s+LIFELINE_DATA_DIR=(\S+)$/.exec(l)?.[1]).find(Boolean);
  assert.ok(dataDir?.startsWith('/') && !dataDir.startsWith('/app'), `LIFELINE_DATA_DIR is ${dataDir}, not a directory of its own`);
  const made = runtime.findIndex((l) => /^RUN\b/.test(l) && l.includes(`mkdir -p ${dataDir}`) && l.includes(`chown node:node ${dataDir}`));
  assert.ok(made >= 0 && made < runtime.indexOf(users.at(-1)!), `${dataDir} is not made and given to node before USER`);
  assert.ok(runtime.includes(`VOLUME ${dataDir}`), `${dataDir} is not a volume`);
  // Nothing is compiled at run time, so no TypeScript tooling ships with the engine.
  for (const tool of ['tsx', 'typescript']) assert.equal(pkg.dependencies[tool], undefined, `${tool} is a production dependency`);
});
