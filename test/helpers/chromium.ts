/**
 * The headless Chromium the HTML report tests drive (through playwright-core, which downloads no
 * browser). In order: CHROMIUM_PATH; the system's Chromium where one is installed; else the
 * binary that the `@sparticuz/chromium` devDependency ships inside its registry package (npm ci
 * brings it; it is unpacked to the temp folder on first use: no download, at install or at run
 * time). Never a skip: when none can be had, the caller fails with the reason.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

const SYSTEM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function executable(): Promise<{ path: string; args: string[] }> {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return { path: fromEnv, args: ARGS };
  }
  const system = SYSTEM.find((p) => existsSync(p));
  if (system) return { path: system, args: ARGS };
  // The packaged build is made for serverless hosts: it runs headless as a single process.
  const packaged = (await import('@sparticuz/chromium')).default;
  const path = await packaged.executablePath();
  return { path, args: [...ARGS, '--headless=shell', '--no-zygote', '--single-process', '--disable-setuid-sandbox'] };
}

export async function launchChromium(): Promise<Browser> {
  const { path, args } = await executable();
  return chromium.launch({ executablePath: path, args });
}
