// What the browser tests (e2e/run.mjs) and the browser benchmark (bench/run.mjs) share: a free
// port, waiting for a portside process they started, and Debian's chromium with the flags this
// machine needs (never a downloaded browser; without the background-networking flags chromium
// keeps trying to reach Google's hosts, which the closed network refuses).
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';

/** A TCP port free on loopback now. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** Waits until the portside process proc answers /readyz on base, or fails if it exits. */
export async function waitHealthy(base, proc) {
  // Polling a process we just started, in the test driver (not an assertion on time).
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) throw new Error(`portside exited with ${proc.exitCode}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('portside did not become ready');
}

/** Debian's chromium (CHROMIUM overrides the path), headless. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
