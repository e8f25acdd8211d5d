/** util/: small helpers every layer may use (the public face; see ARCHITECTURE.md). */
export * from './did-you-mean.js';
export * from './fs.js';
export * from './json.js';
export * from './key-fingerprint.js';
export * from './lazy.js';
export * from './lines.js';
export * from './owner.js';
export * from './package-root.js';
export * from './precompiled.js';
export * from './text.js';
export * from './yaml.js';
