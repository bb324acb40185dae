import https from 'node:https';
import { setupServer } from 'msw/node';
import { http, HttpResponse } from 'msw';
import pd from '@pagerduty/pdjs';
let n = 0;
const server = setupServer(http.post('https://events.test/v2/enqueue', async ({ request }) => {
  n++;
  console.log('msw saw', await request.text());
  return HttpResponse.json({ status: 'throttle' }, { status: 429, headers: { 'Retry-After': '7' } });
}));
server.listen();
class Spy extends https.Agent {
  addRequest(req: any, opts: any) {
    req.once('response', (res: any) => console.log('agent saw response', res.statusCode, res.headers));
    // @ts-ignore
    return super.addRequest(req, opts);
  }
}
const agent = new Spy();
let calls = 0;
const ac = new AbortController();
try {
  const r = await pd.event({ server: 'events.test', data: { routing_key: 'k', event_action: 'trigger', payload: { summary: 's', source: 'x', severity: 'info' } } as any,
    requestTimeout: 0, retryTimeout: 0, signal: ac.signal,
    agent: (u: URL) => { calls++; console.log('agent fn', calls); if (calls > 1) ac.abort(new Error('stop')); return agent; } } as any);
  console.log('resolved', r.status, r.data);
} catch (e) { console.log('rejected', (e as Error).name, (e as Error).message); }
console.log('requests', n);
server.close();
