// What the browser tests (e2e/run.mjs) and the browser benchmark (bench/run.mjs) share: a free
// port, waiting for a portside process they started, the scripted Argo CD (bench/portalargo), and
// Debian's chromium with the flags this machine needs (never a downloaded browser; without the
// background-networking flags chromium keeps trying to reach Google's hosts, which the closed
// network refuses).
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
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

/**
 * Starts the scripted Argo CD (bench/portalargo, built at bin) with args and waits for its
 * address and token. ask(line) writes one line to it and resolves with its one-line answer; the
 * answers come in the order asked, so calls must not overlap.
 */
export async function startPortalArgo(bin, args) {
  const proc = spawn(bin, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  let waiter = null;
  let buf = '';
  proc.stdout.on('data', (d) => {
    buf += String(d);
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
      waiter?.();
    }
  });
  proc.on('exit', () => waiter?.());
  const next = async () => {
    while (!lines.length) {
      if (proc.exitCode !== null) throw new Error(`portalargo exited with ${proc.exitCode}`);
      await new Promise((r) => (waiter = r));
    }
    return lines.shift();
  };
  const { addr, token } = JSON.parse(await next());
  return {
    proc,
    addr,
    token,
    ask(line) {
      proc.stdin.write(line + '\n');
      return next();
    },
  };
}
