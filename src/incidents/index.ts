// Public surface of the incidents engine (see manager.ts for how the parts fit).
export { IncidentManager, matchLabels, routesTest } from './manager.ts';
export type { IncidentDetail, IncidentManagerOptions, RoutesTest, RouteTestResult, SilenceInput, TickReport } from './manager.ts';
export { alertsConfig, buildReceiver, emptyAlertsConfig, ownerReceivers } from './config.ts';
export type { AlertsConfig, AvailabilitySettings, OwnerConfig, RouteConfig } from './config.ts';
export { incidentRoutes, silenceBodySchema } from './api.ts';
export { formatIncidentDetail, formatIncidents, formatRoutesTest } from './format.ts';
export { Outbox, retryDelay } from './outbox.ts';
export type { DeliveryReport, OutboxRow } from './outbox.ts';
export type { IncidentRow, Labels } from './types.ts';
