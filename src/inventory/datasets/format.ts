/**
 * Dataset formats by file extension, with the media type when one is registered or in
 * common use. The extension is all aibom looks at: it never opens a dataset to guess.
 */

interface FormatInfo {
  format: string;
  mime?: string;
}

const BY_EXTENSION: Record<string, FormatInfo> = {
  jsonl: { format: 'jsonl', mime: 'application/jsonl' },
  ndjson: { format: 'jsonl', mime: 'application/x-ndjson' },
  json: { format: 'json', mime: 'application/json' },
  csv: { format: 'csv', mime: 'text/csv' },
  tsv: { format: 'tsv', mime: 'text/tab-separated-values' },
  txt: { format: 'text', mime: 'text/plain' },
  md: { format: 'markdown', mime: 'text/markdown' },
  parquet: { format: 'parquet', mime: 'application/vnd.apache.parquet' },
  arrow: { format: 'arrow', mime: 'application/vnd.apache.arrow.file' },
  feather: { format: 'arrow', mime: 'application/vnd.apache.arrow.file' },
  avro: { format: 'avro' },
  orc: { format: 'orc' },
  xml: { format: 'xml', mime: 'application/xml' },
  yaml: { format: 'yaml', mime: 'application/yaml' },
  yml: { format: 'yaml', mime: 'application/yaml' },
  sqlite: { format: 'sqlite', mime: 'application/vnd.sqlite3' },
  db: { format: 'sqlite', mime: 'application/vnd.sqlite3' },
  zip: { format: 'zip', mime: 'application/zip' },
  tar: { format: 'tar', mime: 'application/x-tar' },
  gz: { format: 'gzip', mime: 'application/gzip' },
  zst: { format: 'zstd', mime: 'application/zstd' },
  pdf: { format: 'pdf', mime: 'application/pdf' },
  html: { format: 'html', mime: 'text/html' },
  npy: { format: 'numpy' },
  npz: { format: 'numpy' },
  h5: { format: 'hdf5' },
  hdf5: { format: 'hdf5' },
  tfrecord: { format: 'tfrecord' },
  arrow_stream: { format: 'arrow' },
  wav: { format: 'wav', mime: 'audio/wav' },
  mp3: { format: 'mp3', mime: 'audio/mpeg' },
  flac: { format: 'flac', mime: 'audio/flac' },
  png: { format: 'png', mime: 'image/png' },
  jpg: { format: 'jpeg', mime: 'image/jpeg' },
  jpeg: { format: 'jpeg', mime: 'image/jpeg' },
  webp: { format: 'webp', mime: 'image/webp' },
};

/** `train.jsonl` → jsonl; `dump.csv.gz` → csv (gzip); unknown → undefined. */
export function formatOfFile(name: string): FormatInfo | undefined {
  const lower = name.toLowerCase();
  const parts = lower.split('.');
  if (parts.length < 2) return undefined;
  const ext = parts[parts.length - 1]!;
  const compressed = ext === 'gz' || ext === 'zst' || ext === 'bz2' || ext === 'xz';
  if (compressed && parts.length >= 3) {
    const inner = BY_EXTENSION[parts[parts.length - 2]!];
    if (inner) return { format: `${inner.format}+${ext}`, ...(BY_EXTENSION[ext]?.mime ? { mime: BY_EXTENSION[ext]!.mime! } : {}) };
  }
  return BY_EXTENSION[ext];
}

/** Files in a dataset folder that describe it rather than hold its data. */
const SIDE_FILES = /^(readme(\..*)?|license(\..*)?|dataset_info\.json|dataset_infos\.json|\.gitattributes|\.gitignore|state\.json)$/i;

/**
 * The format of a folder: the single data format of its files, or the formats joined with
 * ',' when they are mixed (README and metadata files do not count).
 */
export function formatOfFolder(fileNames: string[]): string | undefined {
  const formats = new Set<string>();
  for (const f of fileNames) {
    const base = f.slice(f.lastIndexOf('/') + 1);
    if (SIDE_FILES.test(base)) continue;
    const info = formatOfFile(base);
    formats.add(info?.format ?? 'other');
  }
  if (!formats.size) return undefined;
  return [...formats].sort().join(',');
}
