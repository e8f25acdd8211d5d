/**
 * What `aibom build --provenance` proved, recorded on the BOM's components (documented in
 * schemas/aibom-properties.md): `aibom:npm:provenance*` for the SLSA provenance,
 * `aibom:npm:publish-attestation*` for npm's publish attestation, `aibom:npm:published`, a `vcs`
 * external reference for a proved source repository; and a finding per package whose
 * attestations do not verify or could not be had.
 */
import type { Component, Inventory } from '../inventory/types.js';
import type { PackageProvenance } from './result-cache.js';

export const NPM_PROVENANCE_PREFIX = 'aibom:npm:provenance';
export const NPM_PUBLISH_PREFIX = 'aibom:npm:publish-attestation';

function propertiesOf(c: Component, r: PackageProvenance): void {
  const add = (name: string, v: string | undefined) => {
    if (v !== undefined) c.properties.push({ name, value: v });
  };
  add(NPM_PROVENANCE_PREFIX, r.status);
  const slsa: Array<[string, string | undefined]> = [
    ['repository', r.repository],
    ['ref', r.ref],
    ['workflow', r.workflow],
    ['trigger', r.trigger],
    ['runner', r.runner],
    ['log-index', r.logIndex],
    ['signer', r.signer],
    ['issuer', r.issuer],
    ['error', r.error],
  ];
  for (const [k, v] of slsa) add(`${NPM_PROVENANCE_PREFIX}:${k}`, v);
  const p = r.publish;
  if (p) {
    add(NPM_PUBLISH_PREFIX, p.status);
    const pub: Array<[string, string | undefined]> = [
      ['signer', p.signer],
      ['issuer', p.issuer],
      ['keyid', p.keyid],
      ['log-index', p.logIndex],
      ['error', p.error],
    ];
    for (const [k, v] of pub) add(`${NPM_PUBLISH_PREFIX}:${k}`, v);
  }
  add('aibom:npm:published', r.published);
}

export function annotateInventory(inv: Inventory, results: Map<string, PackageProvenance>): void {
  for (const c of inv.components) {
    const r = results.get(c.ref);
    if (!r) continue;
    propertiesOf(c, r);
    if (r.repository && /^https:\/\//.test(r.repository)) {
      c.externalReferences = [...(c.externalReferences ?? []), { type: 'vcs', url: r.repository, comment: 'source repository proved by the npm provenance attestation' }];
    }
    const label = `${c.group ? `${c.group}/` : ''}${c.name}@${c.version ?? ''}`;
    if (r.status === 'invalid' || r.status === 'error') {
      inv.findings.push({
        code: r.status === 'invalid' ? 'npm-provenance-invalid' : 'npm-provenance-error',
        severity: r.status === 'invalid' ? 'high' : 'medium',
        message: `${label}: ${r.status === 'invalid' ? 'provenance does not verify' : 'provenance could not be fetched'}: ${r.error ?? ''}`,
        component: c.ref,
      });
    }
    const p = r.publish;
    // One finding per package when both fail for the same reason (the response itself).
    if (p && (p.status === 'invalid' || p.status === 'error') && !(r.status === p.status && r.error === p.error)) {
      inv.findings.push({
        code: p.status === 'invalid' ? 'npm-publish-attestation-invalid' : 'npm-publish-attestation-error',
        severity: p.status === 'invalid' ? 'high' : 'medium',
        message: `${label}: ${p.status === 'invalid' ? 'publish attestation does not verify' : 'publish attestation could not be checked'}: ${p.error ?? ''}`,
        component: c.ref,
      });
    }
  }
}
