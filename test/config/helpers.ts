// Temporary config directories for loader tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const MINIMAL_VIGIL = `providers:
  openai:
    kind: openai
    api_key: "\${OPENAI_API_KEY}"
`;

export const TEST_ENV = { OPENAI_API_KEY: 'sk-live-TOPSECRET-123456' };

const made: string[] = [];

/** A config dir with these files (paths relative to it); vigil.yaml defaults to a minimal one. */
export function configDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-config-'));
  made.push(dir);
  const all = { 'vigil.yaml': MINIMAL_VIGIL, ...files };
  for (const [rel, text] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

export function cleanup(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Collects what a command writes. */
export function sink(): { write(s: string): void; text(): string } {
  let buf = '';
  return { write: (s: string) => void (buf += s), text: () => buf };
}

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
