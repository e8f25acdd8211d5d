/**
 * Identity matchers: an exact value, or a user's regular expression ANCHORED as `^(?:RE)$`
 * (sigstore-js and cosign match unanchored substrings, so `alice@example.com` would accept
 * `mallory-alice@example.com.evil`). Used by the identity policy and the claim policy.
 */
import { AibomError } from '../errors.js';

export type Matcher = { exact: string } | { regexp: string; re: RegExp };

const MAX_PATTERN = 4096;

/** Compile a user regular expression, anchored. */
export function anchoredRegExp(pattern: string, flag: string): RegExp {
  if (pattern.length > MAX_PATTERN) throw new AibomError('USAGE', `${flag} is longer than ${MAX_PATTERN} characters`);
  try {
    // The non-capturing group keeps alternations (a|b) inside the anchors.
    return new RegExp(`^(?:${pattern})$`);
  } catch (err) {
    throw new AibomError('USAGE', `${flag} is not a valid regular expression: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Longest identity or issuer matched against a pattern (a certificate field; keeps a user's regexp from running over megabytes). */
const MAX_MATCHED_LENGTH = 8192;

export function matches(m: Matcher, value: string | undefined): boolean {
  if (value === undefined || value.length > MAX_MATCHED_LENGTH) return false;
  return 'exact' in m ? m.exact === value : m.re.test(value);
}

export function describeMatcher(m: Matcher): string {
  return 'exact' in m ? JSON.stringify(m.exact) : `/^(?:${m.regexp})$/`;
}
