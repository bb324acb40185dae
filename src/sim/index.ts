// Public surface of the simulator (src/sim/). See fleet.ts for startSimFleet/runSimCli, control.ts for the HTTP
// control API, latency.ts for the pure latency model, behaviour.ts for the programmable state.
export { startSimFleet, runSimCli, SIM_NAMES, DEFAULT_PORT_BASE, CONTROL_API_HELP } from './fleet.ts';
export type { SimFleet, SimFleetOptions, SimName } from './fleet.ts';
export { SimServer } from './server.ts';
export type { ProviderHandler, RequestContext } from './server.ts';
export { FAULT_KINDS, defaultBehaviour, patchBehaviour, decide, resolveModel, BehaviourError } from './behaviour.ts';
export type { SimBehaviour, ErrorBurst, FaultKind, ModelEntry, SimProvider } from './behaviour.ts';
export { planLatency, diurnalMultiplier, latencyMultiplier, localTime, DEFAULT_LATENCY, DEFAULT_DIURNAL } from './latency.ts';
export { PROVIDER_LATENCY } from './profiles.ts';
export type { LatencyConfig, LatencyPlan, DiurnalConfig } from './latency.ts';
export { DEFAULT_GATEWAY_TARGETS, defaultGatewayConfig, gatewayConfigSchema, configFromPortkeyHeader } from './gateway.ts';
export type { GatewayConfig, GatewayTarget } from './gateway.ts';
export type { SimRequestRecord, GatewayAttempt } from './truth.ts';
export { openaiError } from './openai.ts';
export { anthropicError } from './anthropic.ts';
export { geminiError } from './gemini.ts';
