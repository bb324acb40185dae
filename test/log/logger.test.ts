// The logger: JSON lines for machines, one coloured line per event for people, secrets masked by value in both,
// timestamps from the injected clock, and the format chosen by TTY, $VIGIL_LOG_FORMAT or --log-format.
import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ManualClock } from '../../src/clock.ts';
import { registerSecret } from '../../src/config/redact.ts';
import { createLogger, resolveLogFormat } from '../../src/log.ts';
import { takeGlobalOptions } from '../../src/cli/args.ts';
import { demoLogging } from '../../src/cli/demo.ts';

const ANSI = /\x1b\[[0-9;]*m/g;
const AT = Date.UTC(2026, 0, 5, 14, 3, 7, 89);

function sink(tty = false): { stream: NodeJS.WritableStream; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) });
  if (tty) Object.assign(stream, { isTTY: true });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

const saved = { format: process.env.VIGIL_LOG_FORMAT, level: process.env.VIGIL_LOG_LEVEL, file: process.env.VIGIL_LOG_FILE };
afterEach(() => {
  for (const [k, v] of [['VIGIL_LOG_FORMAT', saved.format], ['VIGIL_LOG_LEVEL', saved.level], ['VIGIL_LOG_FILE', saved.file]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('JSON format', () => {
  it('one object a line: time from the injected clock, level name, msg, base, child and call fields', () => {
    const s = sink();
    const log = createLogger({ format: 'json', stream: s.stream, clock: new ManualClock(AT), base: { component: 'server' } });
    log.info('listening', { url: 'http://127.0.0.1:9464', probes: 3 });
    log.child({ probe: 'openai-canary' }).warn('probe failed', { attempt: 2 });
    const [a, b] = s.lines().map((l) => JSON.parse(l));
    expect(a).toEqual({ time: '2026-01-05T14:03:07.089Z', level: 'info', component: 'server', msg: 'listening', url: 'http://127.0.0.1:9464', probes: 3 });
    expect(b).toMatchObject({ level: 'warn', component: 'server', probe: 'openai-canary', attempt: 2, msg: 'probe failed' });
  });

  it('drops lines below the level ($VIGIL_LOG_LEVEL by default)', () => {
    process.env.VIGIL_LOG_LEVEL = 'warn';
    const s = sink();
    const log = createLogger({ format: 'json', stream: s.stream });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(s.lines().map((l) => JSON.parse(l).msg)).toEqual(['w', 'e']);
  });
});

describe('pretty format', () => {
  it('one line per event: time, level, component, message, key=value fields; multi-line values kept on the line', () => {
    const s = sink();
    const log = createLogger({ format: 'pretty', color: false, stream: s.stream, clock: new ManualClock(AT) });
    log.child({ component: 'chaos' }).error('drill failed', { drill: 'primary-down', reason: 'no fallback\nat all', faults: [1, 2] });
    log.info('vigil running');
    expect(s.lines()).toEqual([
      '[14:03:07.089] ERROR: chaos: drill failed drill=primary-down reason="no fallback\\nat all" faults=[1,2]',
      '[14:03:07.089] INFO: vigil running',
    ]);
  });

  it('coloured when asked (level and dimmed fields), plain text once the colour codes are removed', () => {
    const s = sink();
    createLogger({ format: 'pretty', color: true, stream: s.stream, clock: new ManualClock(AT) }).warn('slow', { ms: 12 });
    const [line] = s.lines();
    expect(line).toMatch(ANSI);
    expect(line.replace(ANSI, '')).toBe('[14:03:07.089] WARN: slow ms=12');
  });
});

describe('secrets are masked by value in every format', () => {
  const secret = 'vigil-test-secret-' + 'x'.repeat(12);
  registerSecret(secret);
  for (const format of ['json', 'pretty'] as const) {
    it(format, () => {
      const s = sink();
      const log = createLogger({ format, color: false, stream: s.stream });
      log.error(`provider said ${secret}`, { header: `Bearer ${secret}`, nested: { echoed: secret }, key: 'sk-proj1234567890abcdef' });
      const text = s.lines().join('\n');
      expect(text).not.toContain(secret);
      expect(text).not.toContain('sk-proj1234567890abcdef');
      expect(text).toContain('***');
    });
  }
});

describe('choosing the format', () => {
  it('auto: pretty on a terminal, JSON otherwise; $VIGIL_LOG_FORMAT wins over auto', () => {
    delete process.env.VIGIL_LOG_FORMAT;
    expect(resolveLogFormat(undefined, sink(true).stream)).toBe('pretty');
    expect(resolveLogFormat(undefined, sink(false).stream)).toBe('json');
    process.env.VIGIL_LOG_FORMAT = 'json';
    expect(resolveLogFormat(undefined, sink(true).stream)).toBe('json');
    process.env.VIGIL_LOG_FORMAT = 'pretty';
    expect(resolveLogFormat(undefined, sink(false).stream)).toBe('pretty');
    expect(resolveLogFormat('auto', sink(false).stream)).toBe('json');
  });

  it('a logger on a terminal writes human lines, on a pipe JSON', () => {
    delete process.env.VIGIL_LOG_FORMAT;
    const tty = sink(true);
    const pipe = sink(false);
    createLogger({ stream: tty.stream, color: false }).info('hello', { a: 1 });
    createLogger({ stream: pipe.stream }).info('hello', { a: 1 });
    expect(tty.lines()[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: hello a=1$/);
    expect(JSON.parse(pipe.lines()[0])).toMatchObject({ level: 'info', msg: 'hello', a: 1 });
  });

  it('$VIGIL_LOG_FILE: lines appended to that file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-log-'));
    try {
      process.env.VIGIL_LOG_FILE = join(dir, 'sub', 'v.log');
      const log = createLogger({ format: 'json' });
      log.info('one');
      log.info('two');
      expect(readFileSync(process.env.VIGIL_LOG_FILE, 'utf8').trim().split('\n').map((l) => JSON.parse(l).msg)).toEqual(['one', 'two']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--log-format and --log-level anywhere on the command line set the env for this process and its children', () => {
    expect(takeGlobalOptions(['run', '--log-format', 'json', '--port', '0', '--log-level=debug'])).toEqual(['run', '--port', '0']);
    expect(process.env.VIGIL_LOG_FORMAT).toBe('json');
    expect(process.env.VIGIL_LOG_LEVEL).toBe('debug');
    expect(() => takeGlobalOptions(['run', '--log-format', 'xml'])).toThrow(/--log-format must be one of auto, json, pretty, not "xml"/);
    expect(() => takeGlobalOptions(['run', '--log-level'])).toThrow(/not nothing/);
  });

  it('the demo never puts JSON on the terminal its human text is on', () => {
    expect(demoLogging(undefined, true, 'data/demo.log')).toEqual({ format: 'pretty', file: null });
    expect(demoLogging('auto', false, 'data/demo.log')).toEqual({ format: 'pretty', file: null });
    // JSON asked for: to a file when stderr is the terminal, to stderr when it is redirected.
    expect(demoLogging('json', true, 'data/demo.log')).toEqual({ format: 'json', file: 'data/demo.log' });
    expect(demoLogging('json', false, 'data/demo.log')).toEqual({ format: 'json', file: null });
  });
});

describe('the CLI on a pipe and on a terminal', () => {
  it('a crash is logged in the process format: JSON on a pipe, a human line with --log-format pretty', () => {
    const script = `import { installCrashPolicy } from ${JSON.stringify(new URL('../../src/runtime/crash.ts', import.meta.url).pathname)}; installCrashPolicy({ graceMs: 10 }); setTimeout(() => { throw new Error('boom') }, 1);`;
    const run = (format?: string) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, VIGIL_LOG_FORMAT: format ?? '' }, encoding: 'utf8', timeout: 20_000 });
    const json = run();
    expect(json.status).toBe(70);
    expect(JSON.parse(json.stderr.trim().split('\n')[0])).toMatchObject({ level: 'error', error: 'Error: boom' });
    const pretty = run('pretty');
    expect(pretty.status).toBe(70);
    expect(pretty.stderr.replace(ANSI, '')).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] ERROR: crashed \(uncaughtException\); exiting with status 70 .* error="Error: boom"/);
  });
});
