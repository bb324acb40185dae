// The two parts of undici the daemon's HTTP client uses: its Agent (dispatcher) and its connector builder.
// Loaded by their files, not through `undici`'s index, which also builds fetch, WebSocket, EventSource, the
// caches, the mock agents and the proxy agents: about 2.8 MB of heap in every thread that imports it (the daemon
// and each probe thread), for code the client never calls. undici has no `exports` map, so these paths are
// public in the package's own sense; test/http/undici-parts.test.ts fails if an upgrade moves them.
import { createRequire } from 'node:module';
import type { Agent as UndiciAgent, buildConnector as undiciBuildConnector } from 'undici';

const requireUndici = createRequire(import.meta.url);

export const Agent = requireUndici('undici/lib/dispatcher/agent.js') as typeof UndiciAgent;
export const buildConnector = requireUndici('undici/lib/core/connect.js') as typeof undiciBuildConnector;
export type AgentOptions = UndiciAgent.Options;
export type ConnectorBuildOptions = undiciBuildConnector.BuildOptions;
export type ConnectorOptions = undiciBuildConnector.Options;
