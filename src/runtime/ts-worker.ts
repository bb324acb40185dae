// Worker threads whose TypeScript loads through the compile cache. A Worker started on a .ts file has that file
// type-stripped before any of its code runs, which loads Node's TypeScript stripper (amaro, about 17 MB of heap
// and WebAssembly per thread) even when the compile cache holds every module. Starting the thread on two lines of
// JavaScript that turn the cache on and then import the .ts entry lets a warm cache skip the stripper entirely.
//
// A thread started from code is not given the process's preloads (`--import`, `--require`, `--loader`, as an
// OpenTelemetry set-up uses), so with any preload the thread starts on its file as usual and pays for the stripper.
import { getCompileCacheDir } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { WorkerOptions } from 'node:worker_threads';
import { nodeFlags } from './node-flags.ts';

const PRELOAD = /^(?:--import|--require|-r|--loader|--experimental-loader)(?:=|$)/;

/** Whether Node was started with a module to preload, on its command line or in NODE_OPTIONS. */
export function hasPreloads(execArgv?: readonly string[], nodeOptions?: string): boolean {
  return nodeFlags(execArgv, nodeOptions).some((a) => PRELOAD.test(a));
}

export function startTsWorker(entry: URL, options: WorkerOptions = {}): Worker {
  const dir = getCompileCacheDir?.();
  if (!dir || hasPreloads()) return new Worker(entry, options);
  // An entry that fails to load rejects here, an unhandled rejection: the Worker's 'error' event, as before.
  const boot = `require('node:module').enableCompileCache(${JSON.stringify(dir)}); import(${JSON.stringify(entry.href)});`;
  return new Worker(boot, { ...options, eval: true });
}
