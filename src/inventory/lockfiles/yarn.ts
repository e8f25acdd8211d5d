import { stripBom } from '../../util/json.js';
import type { LockfileParser } from './types.js';
import { parseBerry } from './yarn-berry.js';
import { parseClassic } from './yarn-classic.js';
import { assertComplete, CLASSIC_HEADER, parseYarnText, yarnWarnings } from './yarn-common.js';

/**
 * yarn.lock, both formats: classic v1 (`# yarn lockfile v1`) and berry (yarn 2+,
 * `__metadata:`). The file name is the same, so one parser claims it and the result's
 * `kind` says which format it was ('yarn-classic' or 'yarn-berry').
 */
export const yarnParser: LockfileParser = {
  kind: 'yarn-classic',
  matches: (base) => base === 'yarn.lock',
  async parse(input, path, ctx) {
    const text = stripBom(input);
    const warnings = yarnWarnings();
    if (text.trim() !== '') assertComplete(text, path);
    const hasMetadata = /^"?__metadata"?:/m.test(text);
    if (CLASSIC_HEADER.test(text)) {
      return parseClassic(await parseYarnText(text, path), text, path, ctx, warnings, 0);
    }
    if (!hasMetadata && /^[ \t]+(?:version|"version") "[^"\n]*"\r?$/m.test(text)) {
      // Classic syntax (`version "1.2.3"`) without the header yarn writes: read it as
      // classic, with the header the parser needs put back (lines shift by one). npm 7+
      // keeps a project's yarn.lock up to date in this form, with every key quoted
      // (`"version" "1.2.3"`) and no header.
      const other = /^# yarn lockfile v(\S+)/m.exec(text);
      warnings.add(
        other
          ? `unknown "# yarn lockfile v${other[1]}" header (aibom reads v1): read as a classic yarn.lock on a best effort`
          : 'no "# yarn lockfile v1" header; read as a classic yarn.lock on a best effort',
      );
      const withHeader = `# yarn lockfile v1\n${text}`;
      return parseClassic(await parseYarnText(withHeader, path, 1), withHeader, path, ctx, warnings, 1);
    }
    if (text.trim() === '') {
      warnings.add('empty yarn.lock: nothing is locked');
      return { path, kind: 'yarn-classic', root: { dependencies: [] }, packages: [], warnings: warnings.done() };
    }
    return parseBerry(await parseYarnText(text, path), text, path, ctx, warnings);
  },
};
