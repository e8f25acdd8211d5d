import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AibomError, describeErrno } from '../errors.js';

/**
 * SHA-256 of many files across worker threads: one file per worker at a time (a digest that is
 * one SHA-256 per file, like model_signing's, allows no parallelism inside a file), biggest
 * files first so the last file to finish is a small one. Each worker reads with synchronous
 * positional reads into one reused 4 MiB buffer and hashes with OpenSSL (SHA-NI where the CPU
 * has it): memory stays flat whatever the file sizes, and no event-loop hop sits between two
 * chunks.
 *
 * The worker is plain CommonJS evaluated from a string so that it runs unchanged from the
 * TypeScript sources (tsx, vitest) and from the compiled dist/ — no worker file to resolve.
 */
export const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const CHUNK = 4 * 1024 * 1024;
const REPORT = 32 * 1024 * 1024;
const buf = Buffer.allocUnsafe(CHUNK);
parentPort.on('message', (job) => {
  let fd;
  try {
    fd = openSync(job.path, 'r');
    const h = createHash('sha256');
    let pending = 0;
    let size = 0;
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, pos);
      if (n === 0) break;
      pos += n;
      h.update(n === CHUNK ? buf : buf.subarray(0, n));
      size += n;
      pending += n;
      if (pending >= REPORT) {
        parentPort.postMessage({ id: job.id, progress: pending });
        pending = 0;
      }
    }
    parentPort.postMessage({ id: job.id, digest: h.digest('hex'), size, progress: pending });
  } catch (err) {
    parentPort.postMessage({ id: job.id, error: String((err && err.message) || err), code: err && err.code });
  } finally {
    if (fd !== undefined) {
      try { closeSync(fd); } catch {}
    }
  }
});
`;

export interface HashJob {
  /** Absolute path. */
  path: string;
  /** Expected size, for scheduling and progress. */
  size: number;
  /** How to name the file in errors. */
  display?: string;
}

export interface HashPoolOptions {
  /** Worker threads (default: the machine's available parallelism, at most 16). */
  concurrency?: number;
  /** Called with the number of bytes just hashed. */
  onBytes?: (n: number) => void;
}

interface WorkerReply {
  id: number;
  digest?: string;
  size?: number;
  progress?: number;
  error?: string;
  code?: string;
}

export function defaultHashConcurrency(): number {
  return Math.max(1, Math.min(16, availableParallelism()));
}

/** Hex SHA-256 of each job's file, in the order of `jobs`. */
export function hashFilesInWorkers(jobs: HashJob[], options: HashPoolOptions = {}): Promise<string[]> {
  const results = new Array<string>(jobs.length);
  if (jobs.length === 0) return Promise.resolve(results);
  const order = jobs.map((_, i) => i).sort((a, b) => jobs[b]!.size - jobs[a]!.size);
  const n = Math.max(1, Math.min(options.concurrency ?? defaultHashConcurrency(), jobs.length));
  return new Promise((resolve, reject) => {
    const workers: Worker[] = [];
    let next = 0;
    let finished = 0;
    let failed = false;
    const stopAll = () => {
      for (const w of workers) void w.terminate();
    };
    const fail = (err: AibomError) => {
      if (failed) return;
      failed = true;
      stopAll();
      reject(err);
    };
    const feed = (w: Worker) => {
      if (next >= order.length) return;
      const id = order[next++]!;
      w.postMessage({ id, path: jobs[id]!.path });
    };
    for (let i = 0; i < n; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      workers.push(w);
      w.on('message', (m: WorkerReply) => {
        if (failed) return;
        if (m.progress) options.onBytes?.(m.progress);
        if (m.error !== undefined) {
          const job = jobs[m.id]!;
          fail(new AibomError('INPUT', `cannot read for hashing: ${m.code ? describeErrno(m.code) : m.error}`, { file: job.display ?? job.path }));
          return;
        }
        if (m.digest === undefined) return;
        results[m.id] = m.digest;
        if (++finished === jobs.length) {
          stopAll();
          resolve(results);
        } else feed(w);
      });
      w.on('error', (err) => fail(new AibomError('INTERNAL', `hashing worker failed: ${err.message}`)));
      w.on('exit', (code) => {
        if (!failed && finished < jobs.length && code !== 0) fail(new AibomError('INTERNAL', `hashing worker exited with code ${code}`));
      });
      feed(w);
    }
  });
}
