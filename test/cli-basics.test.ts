import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type BomDoc, componentByPurl, dependsOn, REPO, runCli, tempDir } from './helpers/cli.js';

describe('aibom CLI basics', () => {
  it('--help teaches: commands, an example, exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('build');
    expect(r.stdout).toContain('validate');
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('Exit codes');
  });

  it('every command has --help with an example', async () => {
    for (const cmd of ['build', 'validate']) {
      const r = await runCli([cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(/Examples:\n\s+\$ aibom /);
    }
  });

  it('an unknown option is a usage error (exit 2) without a stack trace', async () => {
    const r = await runCli(['build', '--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^aibom: /m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a missing folder is an input error naming it', async () => {
    const r = await runCli(['build', 'no/such/dir']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('aibom: no/such/dir: no such folder');
  });

  it('an unsupported --spec-version is a usage error', async () => {
    const r = await runCli(['build', 'examples/agent', '--spec-version', '1.2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unsupported --spec-version');
  });
});

describe('aibom build examples/agent', () => {
  it('writes a schema-valid CycloneDX 1.6 BOM with the project as root and npm packages', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const out = join(dir, 'bom.json');
      const r = await runCli(['build', 'examples/agent', '-o', out]);
      expect(r.stderr).toContain('wrote');
      expect(r.code).toBe(0);
      const bom = JSON.parse(await readFile(out, 'utf8')) as BomDoc;
      expect(bom.bomFormat).toBe('CycloneDX');
      expect(bom.specVersion).toBe('1.6');
      expect(bom.serialNumber).toMatch(/^urn:uuid:/);
      expect(bom.metadata.component?.name).toBe('support-agent');
      const sdk = componentByPurl(bom, 'pkg:npm/%40modelcontextprotocol/sdk@1.12.1');
      expect(sdk?.group).toBe('@modelcontextprotocol');
      expect(sdk?.scope).toBe('required');
      expect(sdk?.hashes?.[0]?.alg).toBe('SHA-512');
      const ts = bom.components?.find((c) => c.name === 'typescript');
      expect(ts?.scope).toBe('excluded');
      const rootRef = bom.metadata.component?.['bom-ref'] as string;
      expect(dependsOn(bom, rootRef)).toContain('pkg:npm/%40modelcontextprotocol/sdk@1.12.1');
      const v = await runCli(['validate', out]);
      expect(v.code).toBe(0);
    } finally {
      await cleanup();
    }
  });

  it('--reproducible gives byte-identical output and no timestamp or serial', async () => {
    const a = await runCli(['build', 'examples/agent', '--reproducible']);
    const b = await runCli(['build', 'examples/agent', '--reproducible', '--spec-version', '1.6']);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const bom = JSON.parse(a.stdout) as BomDoc;
    expect(bom.serialNumber).toBeUndefined();
    expect(bom.metadata.timestamp).toBeUndefined();
  });

  it('--spec-version 1.7 writes a valid 1.7 BOM', async () => {
    const r = await runCli(['build', 'examples/agent', '--spec-version', '1.7']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as BomDoc).specVersion).toBe('1.7');
  });
});

describe('aibom validate', () => {
  it('prints every error with its JSON path and exits 1', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const f = join(dir, 'bad.json');
      await writeFile(
        f,
        JSON.stringify({
          bomFormat: 'CycloneDX',
          specVersion: '1.5',
          version: 1,
          components: [{ type: 'nope', name: 'a' }, { type: 'library' }],
        }),
      );
      const r = await runCli(['validate', f]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('$.components[0].type');
      expect(r.stdout).toContain('$.components[1]');
      const j = await runCli(['validate', f, '--json']);
      const res = JSON.parse(j.stdout) as { valid: boolean; errors: Array<{ path: string }> };
      expect(res.valid).toBe(false);
      expect(res.errors.length).toBeGreaterThanOrEqual(2);
    } finally {
      await cleanup();
    }
  });

  it('reads 1.4 documents and refuses non-CycloneDX JSON with exit 2', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const ok = join(dir, 'ok.json');
      await writeFile(ok, JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.4', version: 1 }));
      expect((await runCli(['validate', ok])).code).toBe(0);
      const other = join(dir, 'other.json');
      await writeFile(other, JSON.stringify({ spdxVersion: 'SPDX-2.3' }));
      const r = await runCli(['validate', other]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('not a CycloneDX BOM');
      const broken = join(dir, 'broken.json');
      await writeFile(broken, '{"bomFormat": "CycloneDX", ');
      const b = await runCli(['validate', broken]);
      expect(b.code).toBe(2);
      expect(b.stderr).toContain(`${broken}: not valid JSON`);
    } finally {
      await cleanup();
    }
  });

});
