// Webhooks with several instances on one store, on both engines: any instance accepts and stores an event; only
// the leader processes it (at once when it reaches the leader, else from the store), exactly once; replays are
// refused whichever instance they reach; the raw bytes come back intact.
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { signGeneric } from '../../src/webhooks/hmac.ts';
import { BACKENDS, freshStoreTarget, skipBackend } from '../pg/backends.ts';
import { GENERIC_SECRET, post, removeTempDirs, startIntake } from './helpers.ts';

afterAll(removeTempDirs);

const notice = (model: string) => JSON.stringify({ provider: 'openai', model, shutdown_at: '2026-10-23', replacement: 'gpt-4.1' });

describe.each(BACKENDS)('webhooks across instances (%s)', (backend) => {
  it.skipIf(skipBackend(backend))('a follower stores, the leader processes once; replays are duplicates on either', async () => {
    const target = await freshStoreTarget(backend);
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
    const leader = await startIntake({ dbPath: target, clock, leading: () => true });
    const follower = await startIntake({ dbPath: target, clock, leading: () => false });
    try {
      const body = notice('gpt-4o-2024-05-13');
      const r = await post(`${follower.server.url}/webhooks/notices`, body, signGeneric(GENERIC_SECRET, body));
      expect(r.status).toBe(202);
      expect(r.json).toMatchObject({ status: 'stored', outcome: 'stored; the leading instance processes it' });
      expect(await follower.registry.rows()).not.toContainEqual(expect.objectContaining({ model: 'gpt-4o-2024-05-13', origin: 'webhook:notices' }));
      // The same delivery retried at the leader: already stored, so a duplicate (processed by the leader from the store).
      expect((await post(`${leader.server.url}/webhooks/notices`, body, signGeneric(GENERIC_SECRET, body))).json).toMatchObject({ status: 'duplicate' });
      // A follower never processes, even when asked to.
      expect(await follower.intake.events.countsByStatus()).toEqual({ pending: 1 });
      expect(await leader.intake.reprocessPending({ retryFailed: false })).toEqual({ processed: 1, failed: 0 });
      expect(await leader.intake.reprocessPending({ retryFailed: false })).toEqual({ processed: 0, failed: 0 });
      expect((await leader.registry.effective()).find((d) => d.model === 'gpt-4o-2024-05-13')).toMatchObject({ shutdownAt: '2026-10-23', replacement: 'gpt-4.1' });
      // Reaching the leader directly: processed at once.
      const other = notice('gpt-4o-mini-2024-07-18');
      expect((await post(`${leader.server.url}/webhooks/notices`, other, signGeneric(GENERIC_SECRET, other))).json).toMatchObject({ status: 'processed' });
      expect(await leader.intake.events.countsByStatus()).toEqual({ processed: 2 });
      // The stored raw body is byte for byte what was sent.
      const row = await leader.store.sql.get<{ body: Uint8Array }>('SELECT body FROM webhook_events ORDER BY id LIMIT 1');
      expect(Buffer.from(row!.body).toString('utf8')).toBe(body);
    } finally {
      await follower.close();
      await leader.close();
    }
  });
});
