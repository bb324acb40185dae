// Inventory: which probes and declared consumers (vigil.yaml `consumers:`) use which model, so lifecycle
// signals reach the owners. Pure.
import type { ProbeSpec, ProviderEndpoint } from '../domain.ts';
import type { Sourced } from '../config/types.ts';
import { globMatch, isSnapshotOf, normalizeModel } from './match.ts';
import type { Deprecation, ModelUser } from './types.ts';

export interface ConsumerDecl {
  id: string;
  owner: string;
  models: string[];
  /** Provider kind or vigil.yaml provider name, or null for any. */
  provider: string | null;
}

export function consumersFromConfig(raw: readonly Sourced[]): ConsumerDecl[] {
  return raw.map(({ value: v }) => ({
    id: String(v.id),
    owner: String(v.owner),
    models: Array.isArray(v.models) ? v.models.map(String) : [],
    provider: typeof v.provider === 'string' && v.provider ? v.provider : null,
  }));
}

export interface InventoryInput {
  probes: readonly ProbeSpec[];
  /** `config.endpoints`: `provider:openai` → endpoint. */
  endpoints: Record<string, ProviderEndpoint>;
  consumers: readonly ConsumerDecl[];
  /** Probe id → served model of its latest result (from `store.latestResults()`), to resolve aliases. */
  served?: ReadonlyMap<string, string | null>;
}

export function buildInventory(input: InventoryInput): ModelUser[] {
  const users: ModelUser[] = [];
  const providerNameByKind = new Map<string, string>();
  for (const [target, ep] of Object.entries(input.endpoints)) {
    if (target.startsWith('provider:') && !providerNameByKind.has(ep.kind)) providerNameByKind.set(ep.kind, ep.name);
  }
  for (const p of input.probes) {
    const ep = input.endpoints[p.target];
    const isProvider = p.target.startsWith('provider:');
    users.push({
      kind: 'probe',
      id: p.id,
      owner: p.owner,
      model: p.model,
      providerKind: ep && ep.kind !== 'gateway' ? ep.kind : null,
      providerName: isProvider ? p.target.slice('provider:'.length) : null,
      served: input.served?.get(p.id) ?? null,
    });
  }
  for (const c of input.consumers) {
    // A consumer's provider may be a kind (openai) or a vigil.yaml provider name (azure-east).
    const byName = c.provider ? Object.values(input.endpoints).find((e) => e.name === c.provider && e.kind !== 'gateway') : undefined;
    for (const model of c.models) {
      users.push({
        kind: 'consumer',
        id: c.id,
        owner: c.owner,
        model,
        providerKind: byName ? byName.kind : c.provider,
        providerName: byName ? byName.name : c.provider ? (providerNameByKind.get(c.provider) ?? null) : null,
        served: null,
      });
    }
  }
  return users;
}

/** Does `user` use the model a deprecation names? Exact id, served snapshot, or a consumer's pattern. */
export function usesModel(user: ModelUser, model: string, providerKind: string | null): boolean {
  if (providerKind && user.providerKind && providerKind !== user.providerKind) return false;
  const m = normalizeModel(model);
  const mine = normalizeModel(user.model);
  if (mine === m) return true;
  if (user.served && normalizeModel(user.served) === m) return true;
  // An alias ending in -latest follows its snapshots: warn its users about each snapshot's retirement.
  if (mine.endsWith('-latest') && isSnapshotOf(mine, m)) return true;
  return user.kind === 'consumer' && mine.includes('*') && globMatch(mine, m);
}

/**
 * Who uses a deprecation's model: the same answer as filtering every user through `usesModel`, without doing so
 * for every deprecation (10,000 probes × the shipped table was millions of `normalizeModel` calls per countdown
 * check). Users are indexed once per inventory by their normalised model and served snapshot; only those whose
 * match is not an exact id (`-latest` aliases, consumer patterns) are tested one by one.
 */
export function usersOf(users: readonly ModelUser[], dep: Pick<Deprecation, 'model' | 'provider'>): ModelUser[] {
  const index = indexOf(users);
  const m = normalizeModel(dep.model);
  const candidates = new Set<number>([...(index.exact.get(m) ?? []), ...index.scan]);
  return [...candidates].sort((a, b) => a - b).map((i) => users[i]).filter((u) => usesModel(u, dep.model, dep.provider));
}

interface UserIndex {
  /** Normalised model or served snapshot → positions of the users with it. */
  exact: Map<string, number[]>;
  /** Positions of users whose model may match other ids: `-latest` aliases and consumer patterns. */
  scan: number[];
}

const indexes = new WeakMap<readonly ModelUser[], UserIndex>();

function indexOf(users: readonly ModelUser[]): UserIndex {
  let index = indexes.get(users);
  if (index) return index;
  index = { exact: new Map(), scan: [] };
  const add = (key: string, i: number) => {
    const list = index!.exact.get(key);
    if (!list) index!.exact.set(key, [i]);
    else if (list.at(-1) !== i) list.push(i);
  };
  users.forEach((u, i) => {
    const mine = normalizeModel(u.model);
    add(mine, i);
    if (u.served) add(normalizeModel(u.served), i);
    if (mine.endsWith('-latest') || (u.kind === 'consumer' && mine.includes('*'))) index!.scan.push(i);
  });
  indexes.set(users, index);
  return index;
}

/** Users grouped by owner, owners sorted. */
export function byOwner(users: readonly ModelUser[]): Map<string, ModelUser[]> {
  const out = new Map<string, ModelUser[]>();
  for (const u of [...users].sort((a, b) => a.owner.localeCompare(b.owner) || a.id.localeCompare(b.id))) {
    const list = out.get(u.owner) ?? [];
    list.push(u);
    out.set(u.owner, list);
  }
  return out;
}

/** "probe openai-canary, consumer search-rerank" */
export function describeUsers(users: readonly ModelUser[]): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const u of users) {
    const s = `${u.kind} ${u.id}`;
    if (!seen.has(s)) {
      seen.add(s);
      parts.push(s);
    }
  }
  return parts.join(', ');
}
