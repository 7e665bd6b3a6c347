import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// Renders docker-compose.yml with the installed `docker-compose` and checks the result: the file is
// valid for the tool, and the stack has the shape the deployment relies on. The rendered YAML is
// read as text: both compose v1 and v2 print it canonically (services at two spaces, their keys at
// four), and the repository has no YAML parser to lean on. Where the two print a value differently
// (v2 indents lists, expands short volume syntax, orders keys otherwise), the checks accept both.

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '../..');
const composeFile = join(repoRoot, 'docker-compose.yml');

const PROVIDER_KEYS = [
  'OPENAI_API_KEY',
  'OPENAI_COMPATIBLE_API_KEY',
  'ANTHROPIC_API_KEY',
  'GEMINI_API_KEY',
] as const;
const APP_SERVICES = ['sim', 'api', 'gateway', 'worker', 'ui'] as const;

function composeVersion(): string | undefined {
  try {
    return execFileSync('docker-compose', ['version', '--short'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** `--profile` arrived in docker-compose 1.28; every v2 has it. */
function supportsProfiles(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major > 1 || (major === 1 && minor >= 28);
}

const version = composeVersion();
const noCompose = version === undefined;
const noProfiles = version === undefined || !supportsProfiles(version);
if (noCompose) {
  console.warn(
    'compose-config: skipped, `docker-compose` is not on PATH or does not run (apt-get install docker-compose)',
  );
} else if (noProfiles) {
  console.warn(
    `compose-config: gpu profile checks skipped, docker-compose ${version} predates --profile`,
  );
}

// A developer's .env (real keys, say) must neither leak into the assertions nor change them: render
// with an empty env file and only PATH and HOME from the environment.
const scratch = mkdtempSync(join(tmpdir(), 'tern-compose-'));
const emptyEnvFile = join(scratch, 'empty.env');
writeFileSync(emptyEnvFile, '');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const renders = new Map<string, Promise<string>>();

/** `docker-compose config`, once per distinct set of options. */
function render(
  options: { profiles?: string[]; env?: Record<string, string> } = {},
): Promise<string> {
  const key = JSON.stringify(options);
  let rendered = renders.get(key);
  if (!rendered) {
    rendered = renderUncached(options);
    renders.set(key, rendered);
  }
  return rendered;
}

async function renderUncached(options: {
  profiles?: string[];
  env?: Record<string, string>;
}): Promise<string> {
  const profileArgs = (options.profiles ?? []).flatMap((p) => ['--profile', p]);
  const args = ['--env-file', emptyEnvFile, '-f', composeFile, ...profileArgs, 'config'];
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env };
  // execFile rejects on a non-zero exit, with stderr in the error: that is the "exit 0" assertion.
  const { stdout } = await run('docker-compose', args, { cwd: repoRoot, env });
  return stdout;
}

/** The lines of one service, without its name line; undefined when the service is absent. */
function service(rendered: string, name: string): string | undefined {
  const lines = rendered.split('\n');
  const start = lines.indexOf('services:');
  const end = lines.findIndex((line, i) => i > start && /^\S/.test(line));
  const section = lines.slice(start + 1, end < 0 ? undefined : end);
  const first = section.indexOf(`  ${name}:`);
  if (start < 0 || first < 0) return undefined;
  const next = section.findIndex((line, i) => i > first && /^ {2}\S/.test(line));
  return section.slice(first + 1, next < 0 ? undefined : next).join('\n');
}

function serviceNames(rendered: string): string[] {
  const lines = rendered.split('\n');
  const start = lines.indexOf('services:');
  const end = lines.findIndex((line, i) => i > start && /^\S/.test(line));
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .flatMap((line) => /^ {2}([\w.-]+):$/.exec(line)?.[1] ?? []);
}

/** A service's `environment:` map, with YAML quotes removed. */
function environment(block: string): Map<string, string> {
  const lines = block.split('\n');
  const start = lines.indexOf('    environment:');
  const env = new Map<string, string>();
  if (start < 0) return env;
  for (const line of lines.slice(start + 1)) {
    const entry = /^ {6}([A-Za-z_][\w]*): ?(.*)$/.exec(line);
    if (!entry) break;
    env.set(entry[1]!, entry[2]!.replace(/^(['"])(.*)\1$/, '$2'));
  }
  return env;
}

/** A read-only bind mount in v1's short syntax or v2's long one. */
function readOnlyMount(source: string, target: string): RegExp {
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const [src, dst] = [literal(source), literal(target)];
  return new RegExp(
    `- ${src}:${dst}:ro\\n|source: ${src}\\n\\s+target: ${dst}\\n\\s+read_only: true\\n`,
  );
}

function mustHave(rendered: string, name: string): string {
  const block = service(rendered, name);
  if (block === undefined) throw new Error(`service ${name} is missing from the rendered config`);
  return block;
}

describe(`docker-compose.yml${noCompose ? ' (skipped: docker-compose not on PATH)' : ''}`, () => {
  it.skipIf(noCompose)('renders and defines the storage services and every Tern role', async () => {
    const names = serviceNames(await render());
    for (const name of ['redis', 'minio', 'minio-init', ...APP_SERVICES]) {
      expect(names).toContain(name);
    }
  });

  it.skipIf(noCompose)(
    'runs redis with an append-only file fsynced every second, on a named volume',
    async () => {
      const redis = mustHave(await render(), 'redis');
      expect(redis).toMatch(/- --appendonly\n\s+- ['"]?yes['"]?\n/);
      expect(redis).toMatch(/- --appendfsync\n\s+- everysec\n/);
      expect(redis).toMatch(/- redis-data:\/data|source: redis-data\n\s+target: \/data\n/);
      expect(redis).toMatch(/redis-cli\n\s+- ping/);
    },
  );

  it.skipIf(noCompose)(
    'builds every Tern service from infra/Dockerfile and starts it in its role',
    async () => {
      const rendered = await render();
      for (const name of APP_SERVICES) {
        const block = mustHave(rendered, name);
        expect(block, name).toContain(`      context: ${repoRoot}\n`);
        expect(block, name).toContain('      dockerfile: infra/Dockerfile\n');
        expect(block, name).toMatch(new RegExp(`    command:\\n\\s+- ${name}\\n`));
      }
    },
  );

  it.skipIf(noCompose)('probes every Tern service on its own port', async () => {
    const rendered = await render();
    for (const [name, port] of [
      ['sim', 4010],
      ['api', 4000],
      ['gateway', 4001],
      ['worker', 4002],
      ['ui', 3000],
    ] as const) {
      const block = mustHave(rendered, name);
      expect(block, name).toMatch(/^ {4}healthcheck:$/m);
      expect(environment(block).get('TERN_PROBE_URL'), name).toMatch(
        new RegExp(`^http://127\\.0\\.0\\.1:${port}/`),
      );
    }
  });

  it.skipIf(noCompose)(
    'publishes the UI, the API and the gateway, and no worker port',
    async () => {
      const rendered = await render();
      for (const [name, port] of [
        ['ui', 3000],
        ['api', 4000],
        ['gateway', 4001],
      ] as const) {
        const block = mustHave(rendered, name);
        expect(block, name).toMatch(new RegExp(`published: ['"]?${port}['"]?\\n`));
        expect(block, name).toContain(`target: ${port}\n`);
      }
      // Replicas of a scaled worker would fight over a published port.
      expect(mustHave(rendered, 'worker')).not.toMatch(/^ {4}ports:$/m);
    },
  );

  it.skipIf(noCompose)('bakes no provider key into the file: unset keys render empty', async () => {
    const rendered = await render();
    for (const name of ['api', 'worker']) {
      const env = environment(mustHave(rendered, name));
      for (const key of PROVIDER_KEYS) expect(env.get(key), `${name}.${key}`).toBe('');
    }
    for (const name of serviceNames(rendered)) {
      const env = environment(mustHave(rendered, name));
      for (const key of PROVIDER_KEYS) {
        const value = env.get(key);
        if (value !== undefined) expect(value, `${name}.${key}`).toBe('');
      }
    }
  });

  it.skipIf(noCompose)(
    'passes provider keys from the environment to api and worker only',
    async () => {
      const rendered = await render({ env: { ANTHROPIC_API_KEY: 'sk-compose-test' } });
      for (const name of ['api', 'worker']) {
        expect(environment(mustHave(rendered, name)).get('ANTHROPIC_API_KEY'), name).toBe(
          'sk-compose-test',
        );
      }
      for (const name of ['ui', 'gateway', 'sim']) {
        const env = environment(mustHave(rendered, name));
        for (const key of PROVIDER_KEYS) expect(env.has(key), `${name}.${key}`).toBe(false);
      }
    },
  );

  it.skipIf(noCompose)(
    'points workers at the simulator unless OPENAI_COMPATIBLE_BASE_URL says otherwise',
    async () => {
      const byDefault = environment(mustHave(await render(), 'worker'));
      expect(byDefault.get('OPENAI_COMPATIBLE_BASE_URL')).toBe('http://sim:4010/v1');
      expect(byDefault.get('TERN_MODEL')).toBe('openai-compatible:tern-sim');
      expect(byDefault.get('WORKER_METRICS_PORT')).toBe('4002');

      const onVllm = await render({
        env: {
          OPENAI_COMPATIBLE_BASE_URL: 'http://vllm:8000/v1',
          TERN_MODEL: 'openai-compatible:qwen3-coder',
        },
      });
      const worker = environment(mustHave(onVllm, 'worker'));
      expect(worker.get('OPENAI_COMPATIBLE_BASE_URL')).toBe('http://vllm:8000/v1');
      expect(worker.get('TERN_MODEL')).toBe('openai-compatible:qwen3-coder');
    },
  );

  it.skipIf(noCompose)('keeps vllm, prometheus and grafana out of the default stack', async () => {
    // Compose v2 leaves inactive profiles' services out of `config`; v1 prints them with their
    // `profiles`, which is what keeps `up` from starting them.
    const rendered = await render();
    for (const [name, profile] of [
      ['vllm', 'gpu'],
      ['prometheus', 'observability'],
      ['grafana', 'observability'],
    ] as const) {
      const block = service(rendered, name);
      if (block !== undefined)
        expect(block, name).toMatch(new RegExp(`    profiles:\\n\\s+- ${profile}\\n`));
    }
  });

  it.skipIf(noProfiles)(
    'adds vllm with an NVIDIA GPU reservation under --profile gpu',
    async () => {
      const vllm = mustHave(await render({ profiles: ['gpu'] }), 'vllm');
      expect(vllm).toMatch(/image: vllm\/vllm-openai/);
      expect(vllm).toMatch(/devices:\n\s+- capabilities:\n\s+- gpu\n/);
      expect(vllm).toMatch(/driver: nvidia/);
      expect(vllm).toMatch(readOnlyMount(join(repoRoot, 'vllm'), '/tern-vllm'));
      expect(vllm).toMatch(/launch\.sh/);
      expect(environment(vllm).get('VLLM_PRESET')).toBe('qwen3-coder');
      expect(vllm).toMatch(/8000\/health/);
    },
  );

  it.skipIf(noProfiles)(
    'adds Prometheus with its config and alert rules under --profile observability',
    async () => {
      const prometheus = mustHave(await render({ profiles: ['observability'] }), 'prometheus');
      for (const file of ['prometheus.yml', 'alerts.yml']) {
        expect(prometheus).toMatch(
          readOnlyMount(join(repoRoot, 'infra/prometheus', file), `/etc/prometheus/${file}`),
        );
        expect(existsSync(join(repoRoot, 'infra/prometheus', file)), file).toBe(true);
      }
      expect(prometheus).toMatch(
        /127\.0\.0\.1:9090:9090|host_ip: 127\.0\.0\.1\n\s+published: ['"]?9090/,
      );
      expect(prometheus).toMatch(/9090\/-\/ready/);
    },
  );

  it.skipIf(noProfiles)(
    'provisions Grafana with the Prometheus datasource and every dashboard',
    async () => {
      const rendered = await render({ profiles: ['observability'] });
      const grafana = mustHave(rendered, 'grafana');
      const provisioning = join(repoRoot, 'infra/grafana/provisioning');
      for (const kind of ['datasources', 'dashboards']) {
        expect(grafana).toMatch(
          readOnlyMount(join(provisioning, kind), `/etc/grafana/provisioning/${kind}`),
        );
      }
      const dashboards = join(repoRoot, 'infra/grafana/dashboards');
      expect(grafana).toMatch(readOnlyMount(dashboards, '/etc/grafana/dashboards/tern'));
      expect(grafana).toMatch(
        /127\.0\.0\.1:3001:3000|host_ip: 127\.0\.0\.1\n\s+published: ['"]?3001/,
      );
      expect(grafana).toMatch(/depends_on:\n\s+prometheus:\n\s+condition: service_healthy/);
      // The provisioning files point where compose mounts things, at the service compose names.
      const provider = readFileSync(join(provisioning, 'dashboards/tern.yml'), 'utf8');
      expect(provider).toContain('path: /etc/grafana/dashboards/tern\n');
      const datasource = readFileSync(join(provisioning, 'datasources/prometheus.yml'), 'utf8');
      expect(datasource).toContain('url: http://prometheus:9090\n');
      expect(datasource).toContain('uid: prometheus\n');
      const home = environment(grafana).get('GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH') ?? '';
      expect(existsSync(join(dashboards, home.replace('/etc/grafana/dashboards/tern/', '')))).toBe(
        true,
      );
      const files = readdirSync(dashboards).filter((f) => f.endsWith('.json'));
      expect(files.sort()).toEqual([
        'overview.json',
        'providers.json',
        'queues-workers.json',
        'sessions.json',
      ]);
      for (const file of files) {
        const dashboard = JSON.parse(readFileSync(join(dashboards, file), 'utf8')) as {
          uid: string;
          panels: { datasource?: { uid: string } }[];
        };
        expect(dashboard.uid, file).toMatch(/^tern-/);
        for (const panel of dashboard.panels) {
          if (panel.datasource) expect(panel.datasource.uid, file).toBe('prometheus');
        }
      }
    },
  );

  it.skipIf(noProfiles)('still answers to the short profile name obs', async () => {
    const rendered = await render({ profiles: ['obs'] });
    expect(service(rendered, 'prometheus')).toBeDefined();
    expect(service(rendered, 'grafana')).toBeDefined();
  });

  it.skipIf(noCompose)(
    'passes an OTLP endpoint to every Tern process, empty (no tracing) by default',
    async () => {
      const byDefault = await render();
      const traced = await render({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' } });
      for (const name of APP_SERVICES) {
        expect(
          environment(mustHave(byDefault, name)).get('OTEL_EXPORTER_OTLP_ENDPOINT'),
          name,
        ).toBe('');
        expect(environment(mustHave(traced, name)).get('OTEL_EXPORTER_OTLP_ENDPOINT'), name).toBe(
          'http://otel:4318',
        );
      }
    },
  );
});

describe('infra/Dockerfile', () => {
  const dockerfile = readFileSync(join(repoRoot, 'infra/Dockerfile'), 'utf8');

  it('runs every role from one Node 24 image as a non-root user, with bwrap installed', () => {
    expect(dockerfile).toMatch(/^FROM node:24-bookworm-slim AS base$/m);
    expect(dockerfile).toMatch(/apt-get install [^\n]*\bbubblewrap\b/);
    expect(dockerfile).toMatch(/^USER node$/m);
    // compose passes the role as the command: the entrypoint must be the CLI.
    expect(dockerfile).toContain('ENTRYPOINT ["node", "cli/bin/tern.ts"]');
    expect(dockerfile).toContain('CMD ["up"]');
  });

  it('keeps secrets and host builds out of the build context', () => {
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['**/node_modules', '**/.next', '.env', '.git', 'data']) {
      expect(ignored).toContain(entry);
    }
  });
});

describe('vllm/launch.sh', () => {
  const launch = join(repoRoot, 'vllm/launch.sh');
  const dryRun = async (env: Record<string, string>) =>
    (
      await run('bash', [launch], {
        env: { PATH: process.env.PATH ?? '', VLLM_DRY_RUN: '1', ...env },
      })
    ).stdout;

  const expected: Record<string, string[]> = {
    'qwen3-coder': ['Qwen/Qwen3-Coder-30B-A3B-Instruct', '--tool-call-parser qwen3_coder'],
    llama3: [
      'meta-llama/Llama-3.1-8B-Instruct',
      '--tool-call-parser llama3_json',
      '--chat-template /vllm-workspace/examples/tool_chat_template_llama3.1_json.jinja',
    ],
    'gpt-oss': [
      'openai/gpt-oss-20b',
      '--tool-call-parser openai',
      '--reasoning-parser openai_gptoss',
    ],
    glm45: ['zai-org/GLM-4.5-Air', '--tool-call-parser glm45', '--reasoning-parser glm45'],
  };

  it('has exactly the documented presets', () => {
    const presets = readdirSync(join(repoRoot, 'vllm/presets'))
      .filter((f) => f.endsWith('.env'))
      .map((f) => f.slice(0, -'.env'.length))
      .sort();
    expect(presets).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.entries(expected))(
    'turns preset %s into a vllm serve command',
    async (preset, parts) => {
      const command = await dryRun({ VLLM_PRESET: preset });
      expect(command).toMatch(/^vllm serve /);
      expect(command).toContain('--host 0.0.0.0 --port 8000');
      expect(command).toContain(`--served-model-name ${preset}`);
      expect(command).toContain('--enable-auto-tool-choice');
      expect(command).toMatch(/--max-model-len \d+/);
      expect(command).toMatch(/--gpu-memory-utilization 0\.\d+/);
      for (const part of parts) expect(command).toContain(part);
      if (!parts.some((p) => p.startsWith('--reasoning-parser'))) {
        expect(command).not.toContain('--reasoning-parser');
      }
    },
  );

  it('lets the environment override a preset value and append flags', async () => {
    const command = await dryRun({
      VLLM_PRESET: 'llama3',
      MAX_MODEL_LEN: '8192',
      VLLM_EXTRA_ARGS: '--max-num-seqs 8 --enforce-eager',
    });
    expect(command).toContain('--max-model-len 8192');
    expect(command).toMatch(/--max-num-seqs 8 --enforce-eager\s*$/);
  });

  it('refuses an unknown preset', async () => {
    await expect(dryRun({ VLLM_PRESET: 'no-such-preset' })).rejects.toThrow(
      /no preset 'no-such-preset'/,
    );
  });
});
