// Helpers for operating-Vigil tests: the real CLI as a child process (what a supervisor runs), with its stderr
// lines time-stamped as they arrive, so a test can say "exited within a second of saying why".
import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { writeConfig } from '../daemon/helpers.ts';

export const MAIN = resolve(import.meta.dirname, '../../src/main.ts');

/** Loopback addresses where nothing listens (the discard port): probes fail fast, no network is touched. */
export const DEAD_ENV: Record<string, string> = {
  OPENAI_BASE_URL: 'http://127.0.0.1:9',
  ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
  GEMINI_BASE_URL: 'http://127.0.0.1:9',
  GATEWAY_BASE_URL: 'http://127.0.0.1:9',
  OPENAI_API_KEY: 'sk-test-openai-0123456789',
  ANTHROPIC_API_KEY: 'sk-ant-test-0123456789',
  GEMINI_API_KEY: 'gemini-test-0123456789',
  GATEWAY_API_KEY: 'gateway-test-0123456789',
};

export interface Line {
  at: number;
  text: string;
}

export interface Vigil {
  child: ChildProcess;
  lines: Line[];
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code and when it happened. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** The first stderr/stdout line matching, waiting up to `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<Line>;
  kill(sig?: NodeJS.Signals): void;
}

export function startVigil(args: string[], opts: { env?: Record<string, string | undefined>; spawn?: SpawnOptions; execArgv?: string[] } = {}): Vigil {
  const child = spawn(process.execPath, [...(opts.execArgv ?? []), MAIN, ...args], {
    env: { ...process.env, VIGIL_LOG_LEVEL: 'info', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...opts.spawn,
  });
  const lines: Line[] = [];
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: (l: Line) => void }[] = [];
  const feed = (chunk: string, sink: 'out' | 'err') => {
    if (sink === 'out') out += chunk;
    else err += chunk;
    for (const text of chunk.split('\n')) {
      if (!text) continue;
      const line = { at: Date.now(), text };
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(text)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (c: string) => feed(c, 'out'));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => feed(c, 'err'));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal, at: Date.now() })),
  );
  return {
    child,
    lines,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(re, ms = 30_000) {
      const hit = lines.find((l) => re.test(l.text));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no line matching ${re} within ${ms} ms; output:\n${out}\n${err}`)), ms);
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
        void exited.then(() => {
          setTimeout(() => {
            clearTimeout(t);
            reject(new Error(`exited before a line matching ${re}; output:\n${out}\n${err}`));
          }, 50);
        });
      });
    },
    kill(sig = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    },
  };
}

/** A loopback port held by another listener for the test's lifetime. */
export async function holdPort(): Promise<{ port: number; close: () => Promise<void> }> {
  // Whoever connects (a daemon looking for a proxy to adopt) is held too, and cut at close: a paused socket
  // would never see its peer's FIN, and close() would wait for it forever.
  const socks = new Set<net.Socket>();
  const s = net.createServer((sock) => {
    socks.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => socks.delete(sock));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    port: (s.address() as AddressInfo).port,
    close: () =>
      new Promise((r) => {
        s.close(() => r());
        for (const sock of socks) sock.destroy();
      }),
  };
}

/** test/daemon's config (four probes every 5 min) plus extra vigil.yaml text. */
export function opsConfig(extraVigil = '', storage?: string): string {
  return writeConfig({ every: '5m', extraVigil, storage });
}

export function writeFile(dir: string, rel: string, text: string): void {
  writeFileSync(join(dir, rel), text);
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
