// The attacker of flood.test.ts, in its own process so its own work doesn't slow the /healthz sampler:
// `node flood-client.ts <url> <connections> <holdMs>`. Even connections send half their headers and stop
// (slowloris); odd ones post a 200 KB webhook body with a bogus signature (every fifth of those declares
// 300 KB, over max_body). Prints one JSON line of what the server answered, then exits.
import net from 'node:net';

const [url, nArg, holdArg] = process.argv.slice(2);
const u = new URL(url);
const n = Number(nArg);
const body = Buffer.alloc(200 * 1024, 'x');
const answers = { closed: 0, s503: 0, s413: 0, s401: 0, other: 0, errors: 0 };
const sockets: net.Socket[] = [];
for (let i = 0; i < n; i++) {
  const slow = i % 2 === 0;
  const s = net.connect(Number(u.port), u.hostname, () => {
    if (slow) {
      s.write('POST /webhooks/notices HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n');
      return;
    }
    const len = i % 10 === 1 ? 300 * 1024 : body.length;
    s.write(`POST /webhooks/notices HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\nx-vigil-signature: sha256=${'0'.repeat(64)}\r\ncontent-length: ${len}\r\n\r\n`);
    s.write(body);
  });
  s.once('data', (d: Buffer) => {
    const status = d.toString('latin1', 9, 12);
    if (status === '503') answers.s503++;
    else if (status === '413') answers.s413++;
    else if (status === '401') answers.s401++;
    else answers.other++;
  });
  s.on('error', () => answers.errors++);
  s.on('close', () => answers.closed++);
  sockets.push(s);
  // Batches, so the kernel's accept queue isn't what refuses them.
  if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
}
await new Promise((r) => setTimeout(r, Number(holdArg)));
for (const s of sockets) s.destroy();
process.stdout.write(JSON.stringify(answers) + '\n');
process.exit(0);
