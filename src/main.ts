#!/usr/bin/env node
// Vigil CLI: one entry point; src/cli/program.ts declares the commands, one module each (loaded on demand).
import { takeGlobalOptions } from './cli/args.ts';
import { describeFailure } from './cli/failure.ts';
import { installCrashPolicy } from './runtime/crash.ts';
import { compileCacheDir, startCompileCache } from './runtime/compile-cache.ts';
import { reexecIfWanted } from './runtime/reexec.ts';

async function main(all: string[]): Promise<number> {
  let argv: string[];
  try {
    argv = takeGlobalOptions(all);
  } catch (err) {
    process.stderr.write(`vigil: ${(err as Error).message}\n`);
    return 2;
  }
  // The daemon starts again at once with the runtime settings Node reads only at start (src/runtime/reexec.ts).
  if (argv.find((a) => !a.startsWith('-')) === 'run') reexecIfWanted(compileCacheDir());
  // Everything below is loaded through Node's compile cache (a restart skips type stripping and compiling).
  startCompileCache();
  // Commands, options, help and "did you mean" for commands and flags: commander (src/cli/program.ts).
  const { buildProgram } = await import('./cli/program.ts');
  const name = argv.find((a) => !a.startsWith('-')) ?? '';
  try {
    return await buildProgram().run(argv);
  } catch (err) {
    const failure = describeFailure(err, name);
    if (!failure) throw err;
    process.stderr.write(failure.text);
    if (failure.exitNow) process.exit(failure.code);
    return failure.code;
  }
}

// An uncaught error anywhere: log it, let the daemon page through its outbox briefly, exit non-zero.
installCrashPolicy();

main(process.argv.slice(2)).then(
  (code) => exitSoon(code),
  (err) => {
    process.stderr.write(`vigil: ${(err as Error).stack ?? err}\n`);
    exitSoon(1);
  },
);

/**
 * Let the event loop drain on its own (stdout flushes, sockets close), but never linger: a handle something left
 * open (a keep-alive socket, a simulator) must not turn a finished command into a process that never exits.
 */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 1_000).unref();
}
