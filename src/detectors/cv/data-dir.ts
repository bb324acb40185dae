// Where the shared development data lives: $VIGIL_SHARED_DATA, else ../shared/data beside the repository (read in
// place, never copied into the project). Callers skip cleanly when it is absent.
import { join, resolve } from 'node:path';

const repoRoot = resolve(import.meta.dirname, '..', '..', '..');

export function sharedDataDir(override?: string): string {
  return resolve(override ?? process.env.VIGIL_SHARED_DATA ?? join(repoRoot, '..', 'shared', 'data'));
}
