// Locations: where an instance probes from (vigil.yaml `location`, VIGIL_LOCATION), which probes it runs
// (`locations:` on a probe), and the stamp on every result it records.
import { afterAll, describe, expect, it } from 'vitest';
import { formatErrors } from '../../src/config/errors.ts';
import { loadConfig } from '../../src/config/load.ts';
import { probesHere } from '../../src/daemon.ts';
import { Store } from '../../src/store/store.ts';
import { cleanup, configDir, MINIMAL_VIGIL, TEST_ENV } from '../config/helpers.ts';
import { BACKENDS, freshStoreTarget, skipBackend } from '../pg/backends.ts';
import { makeResult } from '../store/fixtures/gen.ts';

afterAll(cleanup);

const probes = `probes:
  - id: everywhere
    owner: search
    target: provider:openai
    model: gpt-4o-mini
    prompt: hi
  - id: eu-only
    owner: search
    target: provider:openai
    model: gpt-4o-mini
    prompt: hi
    locations: [eu-west]
`;

describe('locations in config', () => {
  it('comes from vigil.yaml, is overridden by VIGIL_LOCATION, and defaults to "default"', () => {
    const dir = configDir({ 'vigil.yaml': `location: eu-west\n${MINIMAL_VIGIL}`, 'probes/p.yaml': probes });
    expect(loadConfig(dir, { env: TEST_ENV }).config?.location).toBe('eu-west');
    expect(loadConfig(dir, { env: { ...TEST_ENV, VIGIL_LOCATION: 'us-east' } }).config?.location).toBe('us-east');
    expect(loadConfig(configDir({}), { env: TEST_ENV }).config?.location).toBe('default');
  });

  it('an instance runs the probes without `locations` and those that list its own', () => {
    const dir = configDir({ 'probes/p.yaml': probes });
    const eu = loadConfig(dir, { env: { ...TEST_ENV, VIGIL_LOCATION: 'eu-west' } }).config!;
    const us = loadConfig(dir, { env: { ...TEST_ENV, VIGIL_LOCATION: 'us-east' } }).config!;
    expect(probesHere(eu).map((p) => p.id)).toEqual(['everywhere', 'eu-only']);
    expect(probesHere(us).map((p) => p.id)).toEqual(['everywhere']);
  });

  it('rejects bad names where they are written, and a bad storage URL', () => {
    const bad = loadConfig(configDir({ 'vigil.yaml': `location: EU West\nstorage: { url: "mysql://x" }\n${MINIMAL_VIGIL}` }), { env: { ...TEST_ENV, VIGIL_LOCATION: 'Not OK' } });
    const text = formatErrors(bad.errors);
    expect(text).toMatch(/vigil\.yaml:1:\d+ .*not a valid location name/);
    expect(text).toMatch(/vigil\.yaml:2:\d+ .*not a PostgreSQL URL/);
    expect(text).toContain('VIGIL_LOCATION "Not OK" is not a valid location name');
    const url = loadConfig(configDir({ 'vigil.yaml': `storage: { url: "postgres://vigil@127.0.0.1:5432/vigil" }\n${MINIMAL_VIGIL}` }), { env: TEST_ENV });
    expect(url.config?.storage.url).toBe('postgres://vigil@127.0.0.1:5432/vigil');
  });
});

describe.each(BACKENDS)('locations in the store (%s)', (backend) => {
  it.skipIf(skipBackend(backend))('every result recorded carries the instance location unless it has its own', async () => {
    const target = await freshStoreTarget(backend);
    const eu = await Store.connect(target, { location: 'eu-west' });
    await eu.insertResult(makeResult(0));
    await eu.insertResults([{ ...makeResult(1), location: 'us-east' }]);
    await eu.close();
    const reader = await Store.connect(target);
    expect((await reader.results()).map((r) => r.location)).toEqual(['eu-west', 'us-east']);
    await reader.close();
  });
});
