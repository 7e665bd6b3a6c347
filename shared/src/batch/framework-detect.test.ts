import { describe, expect, it } from 'vitest';
import { detectFrameworks, resolveFramework } from './framework-detect.ts';

const detect = (files: Record<string, string>) =>
  detectFrameworks(Object.keys(files), async (path) => files[path]);

describe('detectFrameworks', () => {
  it('reads vitest or jest from package.json dependencies or its test script', async () => {
    expect(await detect({ 'package.json': '{"devDependencies":{"vitest":"^4"}}' })).toEqual([
      {
        framework: 'vitest',
        command: 'npx vitest run',
        evidence: 'package.json depends on vitest',
      },
    ]);
    expect(await detect({ 'package.json': '{"devDependencies":{"ts-jest":"^29"}}' })).toMatchObject(
      [{ framework: 'jest', command: 'npx jest' }],
    );
    expect(await detect({ 'package.json': '{"scripts":{"test":"jest --ci"}}' })).toMatchObject([
      { framework: 'jest', evidence: "package.json's test script" },
    ]);
    expect(await detect({ 'package.json': '{"scripts":{"test":"node --test"}}' })).toEqual([]);
    expect(await detect({ 'package.json': 'not json' })).toEqual([]);
  });

  it('finds pytest from its configuration, dependencies or a conftest.py', async () => {
    const pytest = { framework: 'pytest', command: 'python3 -m pytest -q' };
    expect(await detect({ 'pyproject.toml': '[tool.pytest.ini_options]\n' })).toEqual([
      { ...pytest, evidence: 'pyproject.toml' },
    ]);
    expect(
      await detect({ 'pyproject.toml': '[project.optional-dependencies]\ntest = ["pytest>=8"]\n' }),
    ).toMatchObject([pytest]);
    expect(await detect({ 'requirements-dev.txt': 'pytest==8.3\n' })).toMatchObject([pytest]);
    expect(await detect({ 'tests/conftest.py': '' })).toMatchObject([
      { ...pytest, evidence: 'tests/conftest.py' },
    ]);
    expect(await detect({ 'pyproject.toml': '[project]\nname = "x"\n' })).toEqual([]);
  });

  it('finds go from go.mod, and lists every framework a polyglot repository shows', async () => {
    const found = await detect({
      'go.mod': 'module x\n',
      'package.json': '{"devDependencies":{"vitest":"1","jest":"1"}}',
    });
    expect(found.map((f) => f.framework)).toEqual(['vitest', 'jest', 'go']);
  });
});

describe('resolveFramework', () => {
  const vitest = { framework: 'vitest' as const, command: 'npx vitest run', evidence: 'e' };

  it('takes the request’s framework and command over what was detected', () => {
    expect(resolveFramework({ framework: 'pytest' }, [vitest])).toEqual({
      framework: 'pytest',
      command: 'python3 -m pytest -q',
      source: 'request',
    });
    expect(resolveFramework({ testCommand: 'npm test' }, [vitest])).toEqual({
      framework: 'vitest',
      command: 'npm test',
      source: 'detected',
      evidence: 'e',
    });
  });

  it('refuses to guess: none found, or several', () => {
    expect(() => resolveFramework({}, [])).toThrow(
      expect.objectContaining({ code: 'framework_undetected', status: 422 }),
    );
    expect(() =>
      resolveFramework({}, [
        vitest,
        { framework: 'go', command: 'go test ./...', evidence: 'go.mod' },
      ]),
    ).toThrow(expect.objectContaining({ code: 'framework_ambiguous' }));
  });
});
