// Links in Slack and PagerDuty messages must open on the on-call's phone, not on "127.0.0.1" (their own machine).
// `validate` and `run` warn when notifications leave the host but the links they carry point at loopback.
import type { ConfigError } from './errors.ts';
import type { MissingEnv } from './load.ts';
import type { VigilConfig } from './types.ts';

/** A warning when an external receiver is configured and server.public_url is (or defaults to) loopback. */
export function loopbackLinkWarning(config: Pick<VigilConfig, 'server' | 'alerts' | 'files'>, missing: readonly MissingEnv[] = []): ConfigError | null {
  if (!isLoopbackUrl(config.server.publicUrl)) return null;
  const external = externalReceivers(config, missing);
  if (external.length === 0) return null;
  return {
    severity: 'warning',
    file: config.files.find((f) => f.startsWith('vigil.y')) ?? 'vigil.yaml',
    line: 0,
    column: 0,
    path: 'server.public_url',
    message: `links in ${external.join(' and ')} notifications would point at ${config.server.publicUrl}${config.server.publicUrlFromListen ? ' (the listen address; public_url is not set)' : ''}, which only opens on this machine`,
    hint: 'set server.public_url (or VIGIL_PUBLIC_URL) to the address people reach Vigil at, e.g. https://vigil.example.com',
  };
}

export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return false;
  }
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Receivers that deliver off this machine: Slack with a token, PagerDuty with a routing key (set or from a variable). */
function externalReceivers(config: Pick<VigilConfig, 'alerts'>, missing: readonly MissingEnv[]): string[] {
  const fromVar = (p: (string | number)[]) => missing.some((m) => m.file.startsWith('alerts/') && p.every((k, i) => m.path[i] === k));
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const owners = Object.entries(config.alerts.owners).map(([name, o]) => ({ name, v: o.value as Record<string, unknown> }));
  const slackToken = str((config.alerts.receivers.slack?.value as Record<string, unknown> | undefined)?.token) !== '' || fromVar(['receivers', 'slack', 'token']);
  const out: string[] = [];
  if (slackToken && owners.some((o) => str(o.v.slack) !== '')) out.push('Slack');
  if (owners.some((o) => str(o.v.pagerduty) !== '' || fromVar(['owners', o.name, 'pagerduty']))) out.push('PagerDuty');
  return out;
}
