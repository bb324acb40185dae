// One logger for the whole daemon: JSON lines on stderr (or plain text on a TTY), levels, no secrets.
// Secrets never reach it because configs are redacted before logging; every line also goes through the one
// redactor (src/config/redact.ts): registered secret values and key-shaped text are masked.
import { redact, registerSecret } from './config/redact.ts';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Kept for callers that pass their own values too; the process-wide registry is always applied. */
export function redactSecrets(s: string, secrets: Iterable<string> = []): string {
  return redact(s, secrets);
}

export { registerSecret };

export function createLogger(opts: { level?: Level; json?: boolean; stream?: NodeJS.WritableStream; base?: Record<string, unknown> } = {}): Logger {
  const level = opts.level ?? ((process.env.VIGIL_LOG_LEVEL as Level) || 'info');
  const stream = opts.stream ?? process.stderr;
  const json = opts.json ?? !(stream as { isTTY?: boolean }).isTTY;
  const base = opts.base ?? {};
  const write = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const all = { ...base, ...fields };
    let line: string;
    if (json) {
      line = JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...all });
    } else {
      const kv = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      line = `${new Date().toISOString().slice(11, 23)} ${lvl.toUpperCase().padEnd(5)} ${msg}${kv ? ' ' + kv : ''}`;
    }
    stream.write(redact(line) + '\n');
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (f) => createLogger({ level, json, stream, base: { ...base, ...f } }),
  };
}
