// A PostgreSQL URL as it may be shown (logs, errors, the status page): its password masked. Apart from the
// driver so that naming a store does not load it.

/** The URL without its password, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}
