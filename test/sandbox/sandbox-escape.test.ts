import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentTool, ToolResult } from '../../worker/src/agent/agent-types.ts';
import type { SandboxPolicy } from '../../worker/src/tools/sandbox/sandbox-types.ts';
import { builtInTools } from '../../worker/src/tools/tool-registry.ts';
import { hostProcesses, tempDataDir, testPolicy, uniqueMarker } from './sandbox-fixtures.ts';

// The worker's environment holds provider keys; none of it may reach a command.
const SECRET = 'sk-test-secret';
process.env.OPENAI_API_KEY = SECRET;

const data = tempDataDir();
const workspace = data.workspace('session-a');
const neighbour = data.workspace('session-b');
writeFileSync(join(neighbour, 'neighbour-secret.txt'), 'other session');
afterAll(() => data.remove());

function tools(policy: SandboxPolicy = testPolicy()): Map<string, AgentTool> {
  return builtInTools({ workspace: () => workspace, sandbox: policy });
}

async function bash(
  command: string,
  options: { timeout_ms?: number; signal?: AbortSignal; policy?: SandboxPolicy } = {},
): Promise<ToolResult> {
  const tool = tools(options.policy).get('bash')!;
  const signal = options.signal ?? new AbortController().signal;
  const args = options.timeout_ms ? { command, timeout_ms: options.timeout_ms } : { command };
  return tool.execute(args, { signal, sessionId: 'escape-test' });
}

describe('the bash tool contains a hostile command', () => {
  it('cannot write outside the workspace; its /tmp is private', async () => {
    const marker = uniqueMarker();
    const result = await bash(
      `echo x > /etc/${marker}; echo x > ../${marker}; echo x > /tmp/${marker} && echo tmp-ok; echo x > /usr/${marker}`,
    );
    expect(result.output).toMatch(/\/etc\/tern\w+: Read-only file system/);
    expect(result.output).toMatch(/\.\.\/tern\w+: Read-only file system/);
    expect(result.output).toContain('tmp-ok');
    for (const path of [
      `/etc/${marker}`,
      join(data.dir, marker),
      `/tmp/${marker}`,
      `/${marker}`,
      `/usr/${marker}`,
    ]) {
      expect(existsSync(path), path).toBe(false);
    }
  });

  it('cannot read /etc/shadow, /root, or other sessions and the worker data dir', async () => {
    const shadowHead = readFileSync('/etc/shadow', 'utf8').split(':')[0]!;
    const result = await bash(
      `cat /etc/shadow; ls /root; ls ${data.dir}; find / -name neighbour-secret.txt 2>/dev/null; echo done`,
    );
    expect(result.output).not.toContain(`${shadowHead}:`);
    expect(result.output).toMatch(/ls: cannot access '\/root': No such file or directory/);
    expect(result.output).toContain(`ls: cannot access '${data.dir}': No such file or directory`);
    expect(result.output).not.toContain('neighbour-secret');
  });

  it('sees none of the worker environment or provider keys', async () => {
    const result = await bash(
      'env; echo; cat /proc/1/environ; echo; cat /proc/$PPID/environ; echo; cat /proc/1/cmdline; echo; ps -eo pid,args',
    );
    expect(result.ok).toBe(true);
    expect(result.output).toContain('PATH=');
    expect(result.output).not.toContain(SECRET);
    expect(result.output).not.toContain('OPENAI_API_KEY');
    // bwrap reads its options from a pipe: the host path of the workspace is not on display.
    expect(result.output).not.toContain(data.dir);
  });

  it('runs unprivileged and cannot create user namespaces of its own', async () => {
    const result = await bash(
      'id -u; grep CapEff /proc/self/status; unshare -U true && echo nested-ok',
    );
    expect(result.output).toMatch(
      /^Exit code 1\.\n--- stdout ---\n65534\nCapEff:\t0000000000000000\n/,
    );
    expect(result.output).not.toContain('nested-ok');
  });

  describe('network', () => {
    let server: Server;
    let port = 0;
    beforeAll(async () => {
      // A listener on the host's loopback, as a control: the sandbox must not reach it either.
      server = createServer((socket) => {
        // Probes hang up abruptly; a reset is expected, not a failure of the listener.
        socket.on('error', () => {});
        socket.end('hello from the host\n');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const probe = (p: number) =>
      `(exec 3<>/dev/tcp/127.0.0.1/${p} && echo "reached ${p}" && head -n1 <&3) 2>&1; ` +
      `python3 -c "import socket; socket.create_connection(('127.0.0.1', ${p}), 2); print('python reached ${p}')" 2>&1 | tail -n1`;

    it('cannot reach the host Redis at 127.0.0.1:6379, any host listener, or the internet', async () => {
      const result = await bash(
        `${probe(6379)}; ${probe(port)}; (exec 3<>/dev/tcp/1.1.1.1/53) 2>&1; ip -brief addr 2>/dev/null || cat /proc/net/dev`,
      );
      expect(result.output).not.toMatch(/reached/);
      expect(result.output).not.toContain('hello from the host');
      expect(result.output).toMatch(/Connection refused/);
      expect(result.output).toMatch(/Network is unreachable/);
    });

    it('reaches the host network only when the session policy grants it', async () => {
      const result = await bash(probe(port), { policy: testPolicy({ network: true }) });
      expect(result.output).toContain(`reached ${port}`);
      expect(result.output).toContain('hello from the host');
    });
  });

  it('contains a fork bomb with the process limit, and the host stays responsive', async () => {
    const marker = uniqueMarker();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 50);
    const started = performance.now();
    const result = await bash(
      `${marker}() { ${marker} | ${marker} & }; ${marker}; sleep 3; echo survived`,
      {
        timeout_ms: 15_000,
      },
    );
    const elapsed = performance.now() - started;
    clearInterval(ticker);
    expect(result.output).toMatch(/\[process limit \(64\) reached: \d+ fork\(s\) refused\]/);
    expect(elapsed).toBeLessThan(10_000);
    expect(ticks).toBeGreaterThan(elapsed / 50 / 2);
    expect(hostProcesses(marker)).toEqual([]);
  });

  it('returns at once from a fork bomb that backgrounds itself, leaving nothing behind', async () => {
    const marker = uniqueMarker();
    const result = await bash(`${marker}() { ${marker} | ${marker} & }; ${marker}`);
    expect(result.output).toMatch(/^Exit code 0\./);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(hostProcesses(marker)).toEqual([]);
  });

  it('stops a memory bomb at the memory limit', async () => {
    const python = await bash(`python3 -c "a = ' ' * 10**10"`);
    expect(python.ok).toBe(false);
    expect(python.output).toMatch(
      /^Stopped: the memory limit was reached and the kernel killed a process \(exit status 137\)\./,
    );
    const pipe = await bash('head -c 5G /dev/zero | tail | wc -c');
    expect(pipe.output).toMatch(/^Stopped: the memory limit was reached/);
  });

  it('stops endless output at the output limit and says so', async () => {
    const started = performance.now();
    const result = await bash('yes');
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(
      /^Stopped: the command wrote more output than allowed and was killed\.\n\[output cut at 262144 bytes/,
    );
    expect(result.output).toMatch(/\[… \d+ bytes omitted …\]/);
  });

  it('leaves no background process running after the command returns', async () => {
    const marker = uniqueMarker();
    const result = await bash(
      `(exec -a ${marker}-bg sleep 300) & setsid -f bash -c "exec -a ${marker}-setsid sleep 300" ; ` +
        `nohup bash -c "(exec -a ${marker}-daemon sleep 300) &" >/dev/null 2>&1; echo started`,
    );
    expect(result.output).toBe('Exit code 0.\n--- stdout ---\nstarted\n');
    expect(hostProcesses(marker)).toEqual([]);
  });

  it('stops a command at its wall-clock limit', async () => {
    const started = performance.now();
    const result = await bash('sleep 30', { timeout_ms: 1_000 });
    expect(performance.now() - started).toBeLessThan(2_500);
    expect(result.output).toMatch(
      /^Stopped: the command ran past its 1000 ms time limit; it and every process it started were killed\./,
    );
  });

  it('ends within a second of a cancel, with every process gone', async () => {
    const marker = uniqueMarker();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const started = performance.now();
    const result = await bash(`(exec -a ${marker} sleep 300) & wait`, {
      signal: controller.signal,
    });
    expect(performance.now() - started - 500).toBeLessThan(1_000);
    expect(result.output).toMatch(/^Stopped: the call was cancelled/);
    expect(hostProcesses(marker)).toEqual([]);
  });
});

describe('the bash tool runs ordinary work', () => {
  it('builds files that the other tools then read and edit', async () => {
    const all = tools();
    const context = { signal: new AbortController().signal, sessionId: 'build-test' };
    const written = await bash(
      'mkdir -p out && printf "hello from bash\\n" > out/a.txt && node --version && python3 --version',
    );
    expect(written.output).toMatch(/^Exit code 0\.\n--- stdout ---\nv\d+\.\d+\.\d+\nPython 3/);
    const read = await all.get('read_file')!.execute({ path: 'out/a.txt' }, context);
    expect(read).toEqual({ ok: true, output: 'hello from bash\n' });

    // write_file runs as root in the worker; the next command must still be able to change it.
    await all.get('write_file')!.execute({ path: 'src/x.txt', content: 'one\n' }, context);
    const appended = await bash('echo two >> src/x.txt && cat src/x.txt');
    expect(appended.output).toBe('Exit code 0.\n--- stdout ---\none\ntwo\n');
    const edited = await all
      .get('edit_file')!
      .execute({ path: 'out/a.txt', old_text: 'hello', new_text: 'bye' }, context);
    expect(edited.ok).toBe(true);
    expect((await bash('cat out/a.txt')).output).toContain('bye from bash');
  });

  it('is offered only when the sandbox is usable or unsafe mode is on', () => {
    expect(builtInTools({ workspace: () => workspace, sandbox: 'unavailable' }).has('bash')).toBe(
      false,
    );
    expect([...tools().keys()].sort()).toEqual([
      'bash',
      'edit_file',
      'glob',
      'grep',
      'list_files',
      'read_file',
      'write_file',
    ]);
  });
});
