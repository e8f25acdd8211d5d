/**
 * `aibom diff`, in-process (the library function the CLI calls): versions compared by each
 * ecosystem's rules, signer and provenance changes reported, full digests kept for JSON.
 */
import { describe, expect, it } from 'vitest';
import { compareVersions, diffInventories } from '../src/report/diff.js';
import { inventoryFromBom } from '../src/bom/rows.js';

type Comp = Record<string, unknown>;
const bom = (components: Comp[]) =>
  inventoryFromBom({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, metadata: { component: { type: 'application', name: 'agent' } }, components });
const props = (o: Record<string, string>) => Object.entries(o).map(([name, value]) => ({ name, value }));
const pypi = (name: string, version: string): Comp => ({ type: 'library', name, version, purl: `pkg:pypi/${name}@${version}`, 'bom-ref': `${name}@${version}` });

describe('aibom diff', () => {
  it('PyPI versions by PEP 440: 1.0.0rc1 → 1.0.0 and 1.0 → 1.0.post1 are upgrades; 2.0.dev1 → 1.9 a downgrade', () => {
    const res = diffInventories(
      bom([pypi('torch', '1.0.0rc1'), pypi('numpy', '1.0'), pypi('pandas', '2.0.dev1')]),
      bom([pypi('torch', '1.0.0'), pypi('numpy', '1.0.post1'), pypi('pandas', '1.9')]),
    );
    const kind = (n: string) => res.changes.find((c) => c.name === n)?.kind;
    expect(kind('torch')).toBe('upgraded');
    expect(kind('numpy')).toBe('upgraded');
    expect(kind('pandas')).toBe('downgraded');
    // The same strings as npm versions follow SemVer: a prerelease is still lower than its release.
    expect(compareVersions('1.0.0-rc.1', '1.0.0', 'npm')).toBe(-1);
    expect(compareVersions('1.0.0rc1', '1.0.0', 'pypi')).toBe(-1);
    expect(compareVersions('1.0.post1', '1.0', 'pypi')).toBe(1);
  });

  it('a changed signer or provenance is reported, for the same version and across an upgrade', () => {
    const plugin = (version: string, p: Record<string, string>): Comp => ({ type: 'application', name: 'web-search', version, 'bom-ref': `ws@${version}`, properties: props({ 'aibom:kind': 'plugin', ...p }) });
    const res = diffInventories(
      bom([
        plugin('0.3.1', { 'aibom:publisher:key-fingerprint': `sha256:${'a'.repeat(64)}`, 'aibom:source': 'npm https://registry.example/web-search-0.3.1.tgz' }),
        { ...pypi('requests', '2.31.0'), properties: props({ 'aibom:signer:identity': 'https://github.com/psf/requests/.github/workflows/release.yml@refs/tags/v2.31.0', 'aibom:signer:issuer': 'https://token.actions.githubusercontent.com' }) },
      ]),
      bom([
        plugin('0.3.1', { 'aibom:publisher:key-fingerprint': `sha256:${'b'.repeat(64)}`, 'aibom:source': 'git https://evil.example/web-search' }),
        pypi('requests', '2.32.0'),
      ]),
    );
    const of = (kind: string, name: string) => res.changes.filter((c) => c.kind === kind && c.name === name);
    expect(of('signer', 'web-search')).toEqual([
      { kind: 'signer', component: expect.any(String), name: 'web-search', from: '0.3.1', to: '0.3.1', detail: `signer key sha256:${'a'.repeat(64)} → key sha256:${'b'.repeat(64)}` },
    ]);
    expect(of('provenance', 'web-search')[0]!.detail).toBe('provenance npm https://registry.example/web-search-0.3.1.tgz → git https://evil.example/web-search');
    expect(of('signer', 'requests')[0]!.detail).toMatch(/^signer https:\/\/github\.com\/psf\/requests\/.+ \(issuer https:\/\/token\.actions\.githubusercontent\.com\) → unsigned$/);
    expect(of('upgraded', 'requests')).toHaveLength(1);
    expect(res.counts.signer).toBe(2);
  });

  it('an upgrade whose download URL names the new version is not a provenance change', () => {
    const pkg = (v: string): Comp => ({ ...pypi('idna', v), properties: props({ 'aibom:source': `pypi https://files.example/idna-${v}.tar.gz` }) });
    const res = diffInventories(bom([pkg('3.6')]), bom([pkg('3.7')]));
    expect(res.changes.map((c) => c.kind)).toEqual(['upgraded']);
  });

  it('a suspicious same-version change keeps both digests in full (the text is shortened)', () => {
    const a = 'a1'.repeat(32);
    const b = 'b2'.repeat(32);
    const res = diffInventories(bom([{ ...pypi('six', '1.16.0'), hashes: [{ alg: 'SHA-256', content: a }] }]), bom([{ ...pypi('six', '1.16.0'), hashes: [{ alg: 'SHA-256', content: b }] }]));
    expect(res.changes).toHaveLength(1);
    expect(res.changes[0]).toMatchObject({ kind: 'suspicious', digests: [{ alg: 'SHA-256', from: a, to: b }] });
    expect(res.changes[0]!.detail).toBe(`SHA-256 ${a.slice(0, 12)}… → ${b.slice(0, 12)}…`);
  });
});
