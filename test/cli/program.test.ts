// The command line through commander: help everywhere, exit 2 with "did you mean" for bad flags and commands,
// the closest id for a mistyped probe or drill, and what commander parsed reaching each command as typed.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { didYouMean, parse, splitSub, tokensOf, unknownId, UsageError } from '../../src/cli/args.ts';
import { buildProgram } from '../../src/cli/program.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function program() {
  let stdout = '';
  let stderr = '';
  const p = buildProgram({ stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { p, out: () => stdout, err: () => stderr };
}

/** Every command and subcommand as the path a user types: ['incidents'], ['incidents', 'show'], … */
function paths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.filter((c) => c.name() !== 'help').flatMap((c) => [[...prefix, c.name()], ...paths(c, [...prefix, c.name()])]);
}

describe('vigil --help', () => {
  const all = paths(program().p.command);

  it('covers every command of the CLI, subcommands included', () => {
    const names = all.map((p) => p.join(' '));
    for (const c of ['run', 'demo', 'validate', 'probe', 'drill', 'sim', 'proxy', 'schema', 'eval refusal', 'eval latency', 'eval cv', 'report latency', 'deprecations', 'incidents', 'incidents show', 'silence add', 'silence list', 'silence expire', 'routes test', 'alerts test', 'migrate']) {
      expect(names).toContain(c);
    }
  });

  it.each(all.map((p) => [p.join(' '), p]))('vigil %s --help lists its usage and every option, exit 0', async (_name, path) => {
    const { p, out, err } = program();
    expect(await p.run([...(path as string[]), '--help'])).toBe(0);
    expect(err()).toBe('');
    expect(out()).toContain(`Usage: vigil ${(path as string[]).join(' ')}`);
    let cmd = p.command;
    for (const n of path as string[]) cmd = cmd.commands.find((c) => c.name() === n)!;
    for (const o of cmd.options) expect(out()).toContain(o.long!);
    // Leaf commands that run something show how.
    if (cmd.commands.length === 0 && !['list', 'expire', 'show'].includes(cmd.name())) expect(out()).toContain('Examples:\n  $ ');
  });

  it('no command: the overview on stdout, exit 2; `help incidents` and -h answer too', async () => {
    const a = program();
    expect(await a.p.run([])).toBe(2);
    expect(a.out()).toContain('Commands:');
    const b = program();
    expect(await b.p.run(['help', 'incidents'])).toBe(0);
    expect(b.out()).toContain('Usage: vigil incidents');
    const c = program();
    expect(await c.p.run(['demo', '-h'])).toBe(0);
    expect(c.out()).toContain('--no-history');
  });
});

describe('usage errors', () => {
  it('an unknown flag: exit 2 and the closest flag', async () => {
    const { p, err } = program();
    expect(await p.run(['incidents', '--jsn'])).toBe(2);
    expect(err()).toContain("unknown option '--jsn'");
    expect(err()).toContain('Did you mean --json?');
  });

  it('an unknown command or subcommand: exit 2 and the closest one', async () => {
    const a = program();
    expect(await a.p.run(['incidnets'])).toBe(2);
    expect(a.err()).toContain('Did you mean incidents?');
    const b = program();
    expect(await b.p.run(['silence', 'lst'])).toBe(2);
    expect(b.err()).toContain('Did you mean list?');
  });

  it('a value outside the choices, a missing value, an extra operand: exit 2', async () => {
    for (const argv of [['incidents', '--state', 'open'], ['eval', 'cv', '--only', 'x'], ['probe', '--config'], ['probe', 'a', 'b'], ['eval', 'refusal', '--input', 'a.csv']]) {
      const { p, err } = program();
      expect(await p.run(argv), argv.join(' ')).toBe(2);
      expect(err(), argv.join(' ')).toMatch(/^error: /);
    }
  });

  it('the real binary: --help exits 0, a bad flag exits 2 with a suggestion', async () => {
    const run = promisify(execFile);
    const help = await run(process.execPath, [join(ROOT, 'src/main.ts'), 'demo', '--help'], { cwd: ROOT });
    expect(help.stdout).toContain('Usage: vigil demo [options]');
    const bad = await run(process.execPath, [join(ROOT, 'src/main.ts'), 'validate', '--stict-env'], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
    expect('code' in bad && bad.code).toBe(2);
    expect((bad as { stderr: string }).stderr).toContain('Did you mean --strict-env?');
  });
});

describe('what commander parsed reaches the command as typed', () => {
  it('values by long name, negated flags as given, operands after the subcommand', async () => {
    const { p } = program();
    let seen: unknown = null;
    // The `incidents show` action with its module swapped for a spy: the real parse runs on what it gets.
    const show = p.command.commands.find((c) => c.name() === 'incidents')!.commands.find((c) => c.name() === 'show')!;
    show.action(async function (this: Command) {
      const { parsedOf } = await import('../../src/cli/program.ts');
      const [sub, rest] = splitSub({ ...parsedOf(this), positionals: ['show', ...this.args] });
      seen = { sub, ...parse(rest, { config: { type: 'string', short: 'c' }, db: { type: 'string' }, json: { type: 'boolean', default: false } }) };
    });
    expect(await p.run(['incidents', 'show', 'inc-1', '--db', 'x.db', '--json'])).toBe(0);
    expect(seen).toMatchObject({ sub: 'show', values: { db: 'x.db', json: true }, positionals: ['inc-1'] });
  });

  it('tokens round-trip through the strict parse; an option a command does not know is a usage error', () => {
    const t = tokensOf({ values: { 'no-record': true, proxy: 'http://h:1', json: false }, positionals: ['--looks-like-a-flag'] });
    expect(t).toEqual(['--no-record', '--proxy=http://h:1', '--', '--looks-like-a-flag']);
    const r = parse(t, { 'no-record': { type: 'boolean' }, proxy: { type: 'string' }, json: { type: 'boolean', default: false } });
    expect(r.values).toEqual({ 'no-record': true, proxy: 'http://h:1', json: false });
    expect(r.positionals).toEqual(['--looks-like-a-flag']);
    expect(() => parse({ values: { surprise: 'x' }, positionals: [] }, { json: { type: 'boolean' } })).toThrow(UsageError);
  });
});

describe('did you mean', () => {
  const ids = ['openai-canary', 'openai-canary-nostream', 'anthropic-canary', 'gemini-canary', 'gateway-canary', ...Array.from({ length: 32 }, (_, i) => `benign-set-${i}`)];

  it('the closest id when it is close, nothing when it is not', () => {
    expect(didYouMean('openai-canry', ids)).toBe('openai-canary');
    expect(didYouMean('gemni-canary', ids)).toBe('gemini-canary');
    expect(didYouMean('anthropic', ids)).toBeNull();
    expect(didYouMean('zzz', ids)).toBeNull();
    expect(didYouMean('x', [])).toBeNull();
  });

  it('37 ids: one suggestion and where to see them all, not the whole list; a few ids: listed', () => {
    const many = unknownId('probe', 'openai-canry', ids, '`vigil validate`').message;
    expect(many).toBe('no probe "openai-canry"; did you mean "openai-canary"? (37 probes; `vigil validate` lists them)');
    expect(unknownId('probe', 'qqqq', ids, '`vigil validate`').message).toBe('no probe "qqqq" (37 probes; `vigil validate` lists them)');
    expect(unknownId('drill', 'primary-dwn', ['primary-down', 'gateway-down'], 'drills/*.yaml').message).toBe('no drill "primary-dwn"; did you mean "primary-down"? (known: primary-down, gateway-down)');
    expect(unknownId('drill', 'x', [], 'drills/*.yaml').message).toBe('no drill "x": none configured');
  });
});
