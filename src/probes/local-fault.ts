// When a probe fails because of Vigil itself, not its target: out of file descriptors or sockets (EMFILE, ENFILE),
// out of local ports (EADDRNOTAVAIL), out of kernel buffers or memory (ENOBUFS, ENOMEM, a failed allocation), or
// the thread running the probe died.
// Such a result is `unknown`: it must never page as the provider's outage (a busy host would page every provider).

const LOCAL_CODES: Record<string, string> = {
  EMFILE: 'out of file descriptors (EMFILE)',
  ENFILE: 'the system is out of file descriptors (ENFILE)',
  EADDRNOTAVAIL: 'out of local ports or addresses (EADDRNOTAVAIL)',
  ENOBUFS: 'out of network buffers (ENOBUFS)',
  ENOMEM: 'out of memory (ENOMEM)',
  ERR_OUT_OF_MEMORY: 'out of memory',
};

/** A short reason when `err` (or an error in its `cause` chain) is Vigil's own resource failure, else null. */
export function localFault(err: unknown): string | null {
  // undici wraps the socket's error: its own code (UND_ERR_SOCKET, …) sits above the system one, so walk the chain.
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    // A probe thread that died mid-call (src/probes/threads.ts): its reason says what happened.
    if (code === 'ERR_PROBE_THREAD_GONE' && e instanceof Error) return e.message;
    if (typeof code === 'string' && LOCAL_CODES[code]) return LOCAL_CODES[code];
    if (e instanceof RangeError && /allocation failed|out of memory|invalid array length/i.test(e.message)) return `out of memory (${e.message.slice(0, 80)})`;
    const m = e instanceof Error ? e.message : '';
    const hit = /\b(EMFILE|ENFILE|EADDRNOTAVAIL|ENOBUFS|ENOMEM)\b/.exec(m);
    if (hit) return LOCAL_CODES[hit[1]];
  }
  return null;
}
