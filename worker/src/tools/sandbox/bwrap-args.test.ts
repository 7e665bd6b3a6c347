import { describe, expect, it } from 'vitest';
import { bwrapArgs, type HostLayout } from './bwrap-args.ts';
import { DEFAULT_SANDBOX_POLICY } from './sandbox-types.ts';

const mergedUsr: HostLayout = new Map([
  ['/usr', { kind: 'dir' }],
  ['/etc', { kind: 'dir' }],
  ['/bin', { kind: 'symlink', target: 'usr/bin' }],
  ['/lib', { kind: 'symlink', target: 'usr/lib' }],
  ['/etc/shadow', { kind: 'file' }],
  ['/etc/ssh', { kind: 'dir' }],
  ['/opt/tools', { kind: 'dir' }],
]);

const pairs = (args: string[], option: string) =>
  args.flatMap((arg, i) => (arg === option ? [args.slice(i + 1, i + 3).join(' ')] : []));

describe('bwrapArgs', () => {
  const args = bwrapArgs({ workspace: '/data/ws/s1', policy: DEFAULT_SANDBOX_POLICY }, mergedUsr);

  it('builds the root from an allowlist: system read-only, the workspace read-write', () => {
    expect(pairs(args, '--ro-bind')).toEqual(['/usr /usr', '/etc /etc', '/dev/null /etc/shadow']);
    expect(pairs(args, '--symlink')).toEqual(['usr/bin /bin', 'usr/lib /lib']);
    expect(pairs(args, '--bind')).toEqual(['/data/ws/s1 /workspace']);
    expect(args).toContain('/etc/ssh');
    expect(args.join(' ')).toContain('--remount-ro / --chdir /workspace');
  });

  it('unshares everything, the network included, and forbids nested user namespaces', () => {
    expect(args.slice(0, 3)).toEqual(['--unshare-all', '--unshare-user', '--disable-userns']);
    expect(args).not.toContain('--share-net');
    expect(args).toContain('--die-with-parent');
    expect(args).toContain('--new-session');
  });

  it('shares the network only when the policy grants it', () => {
    const networked = bwrapArgs(
      { workspace: '/w', policy: { ...DEFAULT_SANDBOX_POLICY, network: true } },
      mergedUsr,
    );
    expect(networked).toContain('--share-net');
  });

  it('starts from an empty environment plus a minimal one', () => {
    const env = pairs(args, '--setenv');
    expect(args).toContain('--clearenv');
    expect(env).toEqual([
      'PATH /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'HOME /tmp',
      'LANG C.UTF-8',
      'TERM dumb',
      'USER nobody',
    ]);
  });

  it('mounts extra read-only paths and hides the ones asked for', () => {
    const policy = {
      ...DEFAULT_SANDBOX_POLICY,
      readOnlyPaths: ['/opt/tools'],
      hiddenPaths: ['/opt/tools', '/missing'],
    };
    const extra = bwrapArgs({ workspace: '/w', policy }, mergedUsr);
    expect(pairs(extra, '--ro-bind')).toContain('/opt/tools /opt/tools');
    expect(extra.join(' ')).toContain('--tmpfs /opt/tools --remount-ro /opt/tools');
    expect(extra).not.toContain('/missing');
  });

  it('binds read-only folders under /tmp after the private /tmp, which would hide them', () => {
    const host = new Map([...mergedUsr, ['/tmp/repo/node_modules', { kind: 'dir' } as const]]);
    const policy = { ...DEFAULT_SANDBOX_POLICY, readOnlyPaths: ['/tmp/repo/node_modules'] };
    const late = bwrapArgs({ workspace: '/w', policy }, host);
    const tmpfs = late.findIndex((a, i) => a === '--tmpfs' && late[i + 1] === '/tmp');
    const bind = late.findIndex(
      (a, i) => a === '--ro-bind' && late[i + 1] === '/tmp/repo/node_modules',
    );
    expect(tmpfs).toBeGreaterThan(-1);
    expect(bind).toBeGreaterThan(tmpfs);
  });

  it('mounts shared folders read-write at their own path, and nothing else writable', () => {
    const shared = bwrapArgs(
      { workspace: '/w', policy: { ...DEFAULT_SANDBOX_POLICY, sharedPaths: ['/var/cache/tern'] } },
      mergedUsr,
    );
    expect(pairs(shared, '--bind')).toEqual(['/w /workspace', '/var/cache/tern /var/cache/tern']);
  });

  it('caps /tmp and /dev/shm at tmpBytes', () => {
    expect(args.join(' ')).toContain('--size 536870912 --tmpfs /tmp');
    expect(args.join(' ')).toContain('--size 536870912 --tmpfs /dev/shm');
  });
});
