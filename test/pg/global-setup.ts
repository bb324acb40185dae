// Vitest global setup: one throwaway PostgreSQL cluster shared by every test file (each test takes a fresh
// database of it). VIGIL_TEST_PG_URL points the tests at an existing server instead. Without the binaries the
// Postgres variants skip, except in CI (CI=true), where .ci/run installs them and their absence is an error.
import type { TestProject } from 'vitest/node';
import { findPgBin, startCluster, type Cluster } from './cluster.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of a PostgreSQL server for tests, or null when none is available. */
    pgUrl: string | null;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.VIGIL_TEST_PG_URL;
  if (given) {
    project.provide('pgUrl', given);
    return async () => {};
  }
  if (!findPgBin()) {
    if (process.env.CI) throw new Error('CI: PostgreSQL binaries not found (.ci/run should have installed postgresql)');
    project.provide('pgUrl', null);
    return async () => {};
  }
  const cluster: Cluster = await startCluster({ fast: true });
  project.provide('pgUrl', cluster.url);
  return () => cluster.stop();
}
