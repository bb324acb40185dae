// Diurnal latency detector: public entry point. See latency/detector.ts for how it decides.
export {
  createLatencyDetector,
  cloneLatencyState,
  resolveOptions,
  DEFAULT_OPTIONS,
  type LatencyDetector,
  type LatencyDetectorOptions,
  type LatencyState,
  type LatencySlo,
  type UpdateResult,
  type Baseline,
  type BaselineLevel,
  type AlertState,
  type Direction,
} from './latency/detector.ts';
export {
  createProbeLatencyTracker,
  latencySignal,
  metricValue,
  DETECTOR_ID,
  type ProbeIdentity,
  type ProbeLatencyState,
  type ProbeLatencyTracker,
} from './latency/probe.ts';
export {
  latencyConfigSchema,
  latencySettings,
  detectorOptions,
  SENSITIVITY,
  LATENCY_METRICS,
  type LatencyConfigInput,
  type LatencySettings,
  type LatencyMetric,
} from './latency/config.ts';
export { saveBaseline, loadBaseline, deleteBaseline, serialiseLatencyState, parseLatencyState } from './latency/persist.ts';
export { localHour, isTimeZone, type LocalHour } from './latency/local-hour.ts';
