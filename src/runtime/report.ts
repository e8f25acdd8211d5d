/**
 * The start-up report people read: one line per plugin, then the verdict. Plain text, no
 * colour, stable enough to grep (`REFUSED <path>: <code>: <message>`).
 */
import type { PluginResult, VerifyPluginsResult } from './types.js';

const LABEL: Record<PluginResult['status'], string> = { verified: 'OK', excepted: 'EXCEPTED', missing: 'MISSING', refused: 'REFUSED' };

export function formatReport(res: VerifyPluginsResult): string {
  const lines: string[] = [];
  const b = res.bom;
  if (b.verified && b.rollback) {
    lines.push(`REFUSED BOM ${b.file}: bom-rollback: ${b.rollback}`);
  } else if (b.verified) {
    const who = b.signer?.identity ? `${b.signer.identity}${b.signer.issuer ? ` (issuer ${b.signer.issuer})` : ''}` : 'the release key';
    lines.push(`OK BOM ${b.file}: signed by ${who}${b.signedAt ? ` at ${b.signedAt}` : ''}`);
  } else {
    lines.push(`REFUSED BOM ${b.file}: bom-untrusted: ${b.reason ?? 'not verified'} (bundle ${b.bundle})`);
  }
  for (const p of res.plugins) lines.push(...pluginLines(p));
  const count = (s: PluginResult['status']) => res.plugins.filter((p) => p.status === s).length;
  const parts = [`${count('verified')} verified`];
  if (count('excepted')) parts.push(`${count('excepted')} excepted`);
  if (count('missing')) parts.push(`${count('missing')} missing`);
  parts.push(`${count('refused')} refused`);
  const cache = res.cache ? `; digest cache: ${res.cache.hits} reused, ${res.cache.misses} hashed` : '';
  lines.push(`${res.ok ? 'plugins verified' : 'plugins REFUSED'}: ${parts.join(', ')}${cache}`);
  return `${lines.join('\n')}\n`;
}

function pluginLines(p: PluginResult): string[] {
  const label = `${LABEL[p.status]} ${p.path} (${p.name}${p.version ? `@${p.version}` : ''})`;
  if (p.status === 'verified') {
    const by = p.signer ? `; signed by ${p.signer.method === 'key' ? `key ${p.signer.keyFingerprint}` : `${p.signer.identity} (issuer ${p.signer.issuer})`}` : '';
    return [`${label}: ${p.digest ?? ''}${by}`];
  }
  const out = [`${label}:`];
  for (const r of p.reasons) out.push(`  ${r.code}: ${r.message}`);
  if (p.exception && p.status === 'excepted') out.push(`  excepted until ${p.exception.expires}: ${p.exception.reason}`);
  return out;
}
