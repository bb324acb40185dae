// One logger for the whole process, on pino: JSON lines for machines, coloured one-line text for people.
//
// Format: `json` (one object a line: time, level, msg, fields) or `pretty` (pino-pretty: `12:00:01.234 INFO
// component: message key=value …`, coloured on a terminal). `auto`, the default, is pretty on a TTY and JSON
// otherwise; `--log-format` / $VIGIL_LOG_FORMAT choose. Level: $VIGIL_LOG_LEVEL (debug, info, warn, error).
// Where: stderr, or the file $VIGIL_LOG_FILE names (appended to; the demo uses it to keep JSON off its terminal).
//
// Secrets: every line, as JSON and before any prettifying, goes through the one redactor (src/config/redact.ts):
// registered secret values and credential-shaped text are masked whatever field or message carries them.
// Timestamps come from the injected clock, so a daemon on a manual clock logs its own time.
import { mkdirSync, openSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { Logger as PinoLogger, LoggerOptions as PinoOptions, DestinationStream } from 'pino';
import type { PrettyOptions } from 'pino-pretty';
import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import { redact, registerSecret } from './config/redact.ts';

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export const LOG_LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level?: Level;
  /** `auto` (default, or $VIGIL_LOG_FORMAT): pretty on a TTY, JSON otherwise. */
  format?: LogFormat | 'auto';
  /** Kept for callers that only choose JSON or not (`json: true` = format json). */
  json?: boolean;
  /** Colours in the pretty format; default: the stream is a TTY and $NO_COLOR is unset (or $FORCE_COLOR is set). */
  color?: boolean;
  stream?: NodeJS.WritableStream;
  base?: Record<string, unknown>;
  clock?: Clock;
}

/** Kept for callers that pass their own values too; the process-wide registry is always applied. */
export function redactSecrets(s: string, secrets: Iterable<string> = []): string {
  return redact(s, secrets);
}

export { registerSecret };

// Loaded on first use: commands that never log (validate, schema, incidents) don't pay for them.
const requireLazy = createRequire(import.meta.url);
type PinoFactory = (opts: PinoOptions, dest: DestinationStream) => PinoLogger<never>;
let pinoFactory: PinoFactory | null = null;
let prettyFactory: ((o: PrettyOptions) => (line: string) => string) | null = null;

function isTty(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

function envFormat(): LogFormat | 'auto' {
  const v = process.env.VIGIL_LOG_FORMAT;
  return v === 'json' || v === 'pretty' ? v : 'auto';
}

function envLevel(): Level {
  const v = process.env.VIGIL_LOG_LEVEL as Level | undefined;
  return v && LOG_LEVELS.includes(v) ? v : 'info';
}

/** The format a logger on `stream` would use: what was asked, or pretty on a TTY and JSON otherwise. */
export function resolveLogFormat(asked: LogFormat | 'auto' | undefined, stream: NodeJS.WritableStream = process.stderr): LogFormat {
  const f = asked ?? envFormat();
  return f === 'auto' ? (isTty(stream) ? 'pretty' : 'json') : f;
}

// Fields pino writes itself; the rest are the caller's, shown as key=value in the pretty format.
const OWN_KEYS = new Set(['time', 'level', 'msg', 'component']);

function fieldText(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return JSON.stringify(v) ?? String(v);
}

/** `component: message key=value …` (fields dimmed), one line whatever the fields hold. */
function prettyMessage(log: Record<string, unknown>, messageKey: string, dim: (s: string) => string): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(log)) if (!OWN_KEYS.has(k) && v !== undefined) parts.push(`${k}=${fieldText(v)}`);
  const head = log.component ? `${String(log.component)}: ` : '';
  const fields = parts.length ? ' ' + dim(parts.join(' ')) : '';
  return `${head}${String(log[messageKey] ?? '')}${fields}`.replace(/[\r\n]+/g, ' ');
}

function prettifier(color: boolean): (jsonLine: string) => string {
  prettyFactory ??= (requireLazy('pino-pretty') as { prettyFactory: typeof prettyFactory }).prettyFactory;
  return prettyFactory!({
    colorize: color,
    // UTC, like every other time Vigil prints (notifications, the CLI's tables).
    translateTime: 'HH:MM:ss.l',
    hideObject: true,
    ignore: 'pid,hostname',
    messageFormat: (log, key, _label, { colors }) => prettyMessage(log, key, color ? colors.gray : String),
  });
}

// One descriptor per file for the whole process; lines are written synchronously, so none is lost on exit.
const files = new Map<string, NodeJS.WritableStream>();
function fileStream(path: string): NodeJS.WritableStream {
  let s = files.get(path);
  if (!s) {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, 'a');
    s = { write: (chunk: string) => (writeSync(fd, chunk), true) } as unknown as NodeJS.WritableStream;
    files.set(path, s);
  }
  return s;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const stream = opts.stream ?? (process.env.VIGIL_LOG_FILE ? fileStream(process.env.VIGIL_LOG_FILE) : process.stderr);
  const format = opts.json === true ? 'json' : opts.json === false ? 'pretty' : resolveLogFormat(opts.format, stream);
  const color = opts.color ?? (process.env.FORCE_COLOR ? process.env.FORCE_COLOR !== '0' : isTty(stream) && !process.env.NO_COLOR);
  const clock = opts.clock ?? systemClock;
  const pretty = format === 'pretty' ? prettifier(color) : null;
  // pino writes each line synchronously to this destination: redacted as JSON, then prettified if asked.
  const dest: DestinationStream = {
    write(line: string) {
      const safe = redact(line);
      stream.write(pretty ? pretty(safe) : safe);
    },
  };
  pinoFactory ??= requireLazy('pino') as PinoFactory;
  const root = pinoFactory(
    {
      level: opts.level ?? envLevel(),
      base: opts.base ?? null,
      messageKey: 'msg',
      timestamp: () => `,"time":"${new Date(clock.now()).toISOString()}"`,
      formatters: { level: (label: string) => ({ level: label }) },
    },
    dest,
  );
  return wrap(root);
}

function wrap(p: PinoLogger<never>): Logger {
  return {
    debug: (m, f) => p.debug(f ?? {}, m),
    info: (m, f) => p.info(f ?? {}, m),
    warn: (m, f) => p.warn(f ?? {}, m),
    error: (m, f) => p.error(f ?? {}, m),
    child: (f) => wrap(p.child(f)),
  };
}
