#!/usr/bin/env node
// Vigil CLI: one entry point; src/cli/program.ts declares the commands, one module each (loaded on demand).
import { takeGlobalOptions, UsageError } from './cli/args.ts';
import { ConfigLoadError, formatErrors } from './config/errors.ts';
import { installCrashPolicy } from './runtime/crash.ts';
import { StartupError } from './runtime/startup.ts';
import { compileCacheDir, startCompileCache } from './runtime/compile-cache.ts';
import { reexecIfWanted } from './runtime/reexec.ts';
import { WARMING } from './runtime/warm-cache.ts';

async function main(all: string[]): Promise<number> {
  let argv: string[];
  try {
    argv = takeGlobalOptions(all);
  } catch (err) {
    process.stderr.write(`vigil: ${(err as Error).message}\n`);
    return 2;
  }
  const name = argv.find((a) => !a.startsWith('-')) ?? '';
  // The daemon starts again at once with the runtime settings Node reads only at start (src/runtime/reexec.ts).
  if (name === 'run') reexecIfWanted(compileCacheDir());
  // Everything below is loaded through Node's compile cache (a restart skips type stripping and compiling).
  startCompileCache();
  // Commands, options, help and "did you mean" for commands and flags: commander (src/cli/program.ts).
  const { buildProgram } = await import('./cli/program.ts');
  try {
    return await buildProgram().run(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`vigil ${name}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ConfigLoadError) {
      const n = err.errors.length;
      process.stderr.write(`${formatErrors(err.errors)}\nvigil ${name}: invalid config (${n} error${n === 1 ? '' : 's'})\n`);
      // Nothing worth waiting for was started; whatever a half-done start left open must not delay the exit.
      process.exit(2);
    }
    // One line naming the step, the path or port, and the cause: what a supervisor's log should show.
    if (err instanceof StartupError) {
      process.stderr.write(`vigil ${name}: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    throw err;
  }
}

// Imported by the compile cache's warming child (src/runtime/warm-cache.ts) only to be compiled: nothing to run.
if (!process.env[WARMING]) {
  // An uncaught error anywhere: log it, let the daemon page through its outbox briefly, exit non-zero.
  installCrashPolicy();

  main(process.argv.slice(2)).then(
    (code) => exitSoon(code),
    (err) => {
      process.stderr.write(`vigil: ${(err as Error).stack ?? err}\n`);
      exitSoon(1);
    },
  );
}

/**
 * Let the event loop drain on its own (stdout flushes, sockets close), but never linger: a handle something left
 * open (a keep-alive socket, a simulator) must not turn a finished command into a process that never exits.
 */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 1_000).unref();
}
