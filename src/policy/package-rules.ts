/**
 * The npm package provenance rules of a policy's `packages` section, over what
 * `aibom build --provenance` recorded (aibom:npm:provenance, aibom:npm:published):
 * - package-provenance: `required` needs verified (SLSA) provenance; `preferred` lets a package
 *   without provenance pass but fails one whose provenance does not verify or was refused
 *   (by scope/name glob when given as a list; the first match applies). Under either level a
 *   package whose npm publish attestation (aibom:npm:publish-attestation) is invalid or could
 *   not be checked fails too; a publish attestation alone never counts as provenance;
 * - package-release-age: a version published less than `minimumReleaseAge` before the BOM was
 *   made (its metadata.timestamp, else now) fails unless `releaseAgeAllow` matches it; a
 *   version whose publish time is unknown fails (fail-closed).
 * Development-only packages are left out unless includeDevPackages.
 */
import picomatch from 'picomatch';
import type { InventoryReport, InventoryRow } from '../bom/rows.js';
import type { GateFailure } from './evaluate.js';
import type { Policy } from './types.js';

const isNpm = (row: InventoryRow) => row.kind === 'package' && (row.purl ?? '').startsWith('pkg:npm/');
const first = (row: InventoryRow, k: string) => row.properties.get(k)?.[0];

function levelFor(policy: NonNullable<Policy['packages']>, name: string): 'required' | 'preferred' | undefined {
  const p = policy.provenance;
  if (p === undefined || typeof p === 'string') return p;
  return p.find((e) => picomatch(e.match, { dot: true })(name))?.level;
}

export function evaluatePackageRules(inv: InventoryReport, policy: Policy, bomTime: Date): GateFailure[] {
  const pp = policy.packages;
  if (!pp) return [];
  const out: GateFailure[] = [];
  const allow = (pp.releaseAgeAllow ?? []).map((g) => picomatch(g, { dot: true }));
  for (const row of inv.rows) {
    if (!isNpm(row) || (!policy.includeDevPackages && row.scope === 'excluded')) continue;
    const label = `${row.name}@${row.version ?? ''}`;
    const status = first(row, 'aibom:npm:provenance');
    const level = levelFor(pp, row.name);
    const fail = (rule: GateFailure['rule'], message: string, fix: string) => {
      const f: GateFailure = { rule, subject: row.ref, name: label, message, fix };
      if (row.locations[0]) f.location = row.locations[0];
      out.push(f);
    };
    const publish = first(row, 'aibom:npm:publish-attestation');
    if (level === 'required' && status !== 'verified') {
      const why = status === undefined ? 'its provenance was not checked' : status === 'missing' ? 'it has no provenance attestation' : `its provenance is ${status}: ${first(row, 'aibom:npm:provenance:error') ?? ''}`.trim();
      fail('package-provenance', `provenance is required and ${why}`, status === undefined ? 'build the BOM with `aibom build --provenance`' : 'use a version published with provenance (npm publish --provenance), or relax packages.provenance for it');
    } else if (level === 'preferred' && (status === 'invalid' || status === 'error' || status === undefined)) {
      const why = status === undefined ? 'its provenance was not checked' : `its provenance is ${status}: ${first(row, 'aibom:npm:provenance:error') ?? ''}`.trim();
      fail('package-provenance', why, status === undefined ? 'build the BOM with `aibom build --provenance`' : 'a package that claims provenance must prove it: find out why it does not verify');
    } else if (level !== undefined && (publish === 'invalid' || publish === 'error')) {
      // The registry's own statement about these bytes does not verify: as suspect as bad provenance.
      const why = `its npm publish attestation is ${publish}: ${first(row, 'aibom:npm:publish-attestation:error') ?? ''}`.trim();
      fail('package-provenance', why, 'the registry\'s publish attestation must match the lockfile: find out why it does not verify');
    }
    if (pp.minimumReleaseAgeMs !== undefined && !allow.some((m) => m(row.name) || m(label))) {
      const published = first(row, 'aibom:npm:published');
      const t = published ? Date.parse(published) : Number.NaN;
      if (Number.isNaN(t)) {
        fail('package-release-age', `publish time unknown (cooldown ${pp.minimumReleaseAge})`, 'build the BOM with `aibom build --provenance` (it reads publish times), or add the package to packages.releaseAgeAllow');
      } else if (bomTime.getTime() - t < pp.minimumReleaseAgeMs) {
        const hours = Math.max(0, Math.floor((bomTime.getTime() - t) / 3_600_000));
        fail('package-release-age', `published ${published}, ${hours} h before the build: under the ${pp.minimumReleaseAge} cooldown`, `wait until it is ${pp.minimumReleaseAge} old, pin the previous version, or add it to packages.releaseAgeAllow after review`);
      }
    }
  }
  return out;
}
