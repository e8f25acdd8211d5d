import { configLocation } from './config.js';
import type { DiscoverContext, DiscoverResult, Discoverer } from './discoverer.js';
import { sanitizeUrl } from './mcp/redact.js';
import type { Finding, Service } from './types.js';
import { NS, prop } from './types.js';

/**
 * External AI APIs the agent calls, declared in aibom.config (`services: [{name, endpoints,
 * provider?, description?}]`): CycloneDX services with their endpoints, marked as crossing a
 * trust boundary (data leaves the agent). Endpoint URLs go into the BOM without credentials:
 * user info and query values are removed (a finding says so when there were any).
 */

export const servicesDiscoverer: Discoverer = {
  name: 'services',
  discover: discoverServices,
};

async function discoverServices(ctx: DiscoverContext): Promise<DiscoverResult> {
  const config = ctx.options.config;
  const services: Service[] = [];
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const [i, s] of (config?.services ?? []).entries()) {
    const loc = configLocation(config, `/services/${i}`);
    let ref = `service:${s.name}`;
    for (let n = 2; seen.has(ref); n++) ref = `service:${s.name}#${n}`;
    seen.add(ref);
    const clean = s.endpoints.map((e) => sanitizeUrl(e));
    // Keep the URL as written unless something was removed from it.
    const endpoints = clean.map((e, j) => (sameUrl(e, s.endpoints[j]!) ? s.endpoints[j]! : e));
    if (endpoints.some((e, j) => e !== s.endpoints[j])) {
      const f: Finding = {
        code: 'service-endpoint-credentials',
        severity: 'medium',
        message: `service "${s.name}" has credentials or query values in an endpoint URL; they were left out of the BOM (keep secrets out of aibom.config)`,
        component: ref,
      };
      if (loc) f.location = loc;
      findings.push(f);
    }
    const service: Service = {
      ref,
      name: s.name,
      endpoints,
      trustZone: 'external',
      properties: [prop(`${NS}kind`, 'service'), prop(`${NS}service:kind`, 'ai-api')],
      locations: loc ? [loc] : [],
      extra: { 'x-trust-boundary': true },
    };
    if (s.description) service.description = s.description;
    if (s.provider) service.extra = { ...service.extra, provider: { name: s.provider } };
    services.push(service);
  }
  return { services, findings, rootDependencies: services.map((s) => s.ref) };
}

/** Equal but for URL normalization (a trailing slash, case of the scheme and host). */
function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}
