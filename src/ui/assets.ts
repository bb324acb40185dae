// The stylesheet and the small client script, served from the daemon itself (no CDN, no fonts, no build step).

export const CSS = `
:root{--bg:#f6f7f9;--fg:#1b1f24;--muted:#5b6470;--card:#fff;--line:#d9dee4;--accent:#1f5fbf;
--ok:#17723a;--ok-bg:#e3f4e8;--warn:#8a5a00;--warn-bg:#fff1cc;--bad:#b3261e;--bad-bg:#fde4e1;--unk:#4b5563;--unk-bg:#eceff2;--pend:#5b3fa3;--pend-bg:#ece6fa;
--h0:#eaf2fb;--h1:#cfe1f6;--h2:#a9c8ec;--h3:#77a6dc;--h4:#3f7cc4;--hw:#ffd27a;--ho:#d93a2b;
--s-main:#1f5fbf;--s-upper:#9dbbe6;--benign:#1f5fbf;--refuse:#a3479a;font-size:15px}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--fg:#e6e9ed;--muted:#9aa4b1;--card:#1a1f25;--line:#2d343d;--accent:#7fb0ff;
--ok:#6fd08f;--ok-bg:#143321;--warn:#f3c969;--warn-bg:#3a2e0c;--bad:#ff8a80;--bad-bg:#431a17;--unk:#b7c0cb;--unk-bg:#262c33;--pend:#c4b1ff;--pend-bg:#2c2443;
--h0:#16263a;--h1:#1c3554;--h2:#25497a;--h3:#2f62a6;--h4:#4a86d6;--hw:#8a6410;--ho:#b3261e;--s-main:#7fb0ff;--s-upper:#40608f;--benign:#7fb0ff;--refuse:#e48ad8}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:1rem/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
a{color:var(--accent)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
.skip{position:absolute;left:-999px;top:0;background:var(--card);padding:.5rem}.skip:focus{left:.5rem;z-index:10}
.vh{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.top{display:flex;flex-wrap:wrap;align-items:center;gap:.25rem 1.5rem;padding:.6rem 1.25rem;background:var(--card);border-bottom:1px solid var(--line)}
.brand{margin:0;font-weight:700;font-size:1.15rem}.brand a{color:var(--fg);text-decoration:none}.brand-sub{font-weight:400;color:var(--muted);font-size:.85rem;margin-left:.35rem}
nav ul{display:flex;flex-wrap:wrap;gap:.15rem;margin:0;padding:0;list-style:none}
nav a{display:block;padding:.35rem .65rem;border-radius:6px;text-decoration:none;color:var(--fg)}
nav a:hover{background:var(--bg)}nav a[aria-current=page]{background:var(--accent);color:#fff}
main{padding:.75rem 1.25rem 1rem;max-width:1500px;margin:0 auto}
h1{font-size:1.45rem;margin:.35rem 0 .6rem}h2{font-size:1.1rem;margin:0 0 .5rem}h3{font-size:1rem}
.panel{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:.8rem 1rem;margin:0 0 1rem}
.sub{display:block;color:var(--muted);font-size:.8rem;font-weight:400}
h2 .sub{display:inline;margin-left:.4rem}
.meta{color:var(--muted);margin:.2rem 0 .5rem;font-size:.9rem}
.alarm{border:2px solid var(--ho);border-radius:8px;padding:.5rem .75rem;margin:.4rem 0 .75rem;font-weight:600}
.scroll{position:relative;overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
.scroll:focus{outline:2px solid var(--accent);outline-offset:2px}
table{border-collapse:collapse;width:100%;font-size:.9rem}
caption{text-align:left;color:var(--muted);font-size:.8rem;padding:0 0 .4rem}
th,td{padding:.4rem .55rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{font-size:.78rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.group th{background:var(--bg);font-size:.9rem;border-top:2px solid var(--line)}
tr.loc th,tr.loc td{font-size:.85rem;padding-top:.1rem;padding-bottom:.1rem}tr.loc th.loc{padding-left:1.4rem;font-weight:normal}
.group-name{font-weight:700;margin-right:.5rem}.group-cost{float:right;color:var(--muted);font-weight:400;font-size:.8rem}
.probe-id{font-weight:600;overflow-wrap:anywhere}
th.probe{min-width:11.5rem;position:sticky;left:0;background:var(--card);z-index:1}
table.compact ul.inline{min-width:16rem}
.status{display:inline-flex;align-items:center;gap:.3rem;padding:.08rem .5rem;border-radius:999px;font-size:.82rem;font-weight:600;white-space:nowrap;border:1px solid transparent}
.s-ok{color:var(--ok);background:var(--ok-bg)}.s-degraded{color:var(--warn);background:var(--warn-bg)}
.s-failed,.s-confirming{color:var(--bad);background:var(--bad-bg)}.s-unknown{color:var(--unk);background:var(--unk-bg)}
.s-pending,.s-maintenance,.s-disabled{color:var(--pend);background:var(--pend-bg)}
.detail{max-width:22rem;overflow:hidden;text-overflow:ellipsis}
.lat{white-space:nowrap}.lat-nums{display:block;font-variant-numeric:tabular-nums}.lat .p95{color:var(--muted)}.lat .sep{color:var(--line)}
.spark{display:block;margin-top:2px;overflow:visible}
.spark-main{fill:none;stroke:var(--s-main);stroke-width:1.6}.spark-upper{fill:none;stroke:var(--s-upper);stroke-width:1.2}
.spark-main-dot{fill:var(--s-main)}.spark-upper-dot{fill:var(--s-upper)}.spark-none{stroke:var(--line);stroke-dasharray:2 3}
.model{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8rem;word-break:break-all}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,160px),1fr));gap:.75rem;list-style:none;padding:0;margin:0 0 1rem}
.card a{display:flex;flex-direction:column;gap:.3rem;height:100%;padding:.7rem .9rem;background:var(--card);border:1px solid var(--line);border-left:5px solid var(--unk);border-radius:10px;color:var(--fg);text-decoration:none}
.card a:hover{border-color:var(--accent)}
.card-ok a{border-left-color:var(--ok)}.card-degraded a,.card-pending a{border-left-color:var(--warn)}.card-failed a,.card-confirming a{border-left-color:var(--bad)}
.card-title{font-size:.78rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}.card-note{font-size:.82rem;color:var(--muted)}
.card-value .status{font-size:.95rem}
.controls{display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:flex-end;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:.6rem .9rem;margin:0 0 1rem}
.field{display:flex;flex-direction:column;gap:.2rem}.field label{font-size:.8rem;color:var(--muted)}
select,input,button{font:inherit;padding:.3rem .45rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);max-width:100%}
input[type=number]{width:5.5rem}button{background:var(--accent);color:#fff;border-color:var(--accent);cursor:pointer;padding:.3rem .9rem}
.heatmap{table-layout:fixed;min-width:900px;font-size:.72rem}
.heatmap th,.heatmap td{padding:.28rem 0;text-align:center;border:1px solid var(--card)}
.heatmap thead th{font-size:.7rem;text-transform:none;letter-spacing:0}.heatmap th[scope=row]{width:2.8rem;text-align:left;padding-left:.3rem;color:var(--muted)}
.heatmap td{font-variant-numeric:tabular-nums;color:#10243d}
.hm-0{background:var(--h0)}.hm-1{background:var(--h1)}.hm-2{background:var(--h2)}.hm-3{background:var(--h3);color:#fff!important}.hm-4{background:var(--h4);color:#fff!important}
.hm-warn{background:var(--hw);color:#3a2600!important;font-weight:600}.hm-over{background:var(--ho);color:#fff!important;font-weight:700}
.hm-none{background:var(--bg);color:var(--muted)!important}
.flag{margin-left:1px}
.hm-summary{margin:.1rem 0 .5rem;font-size:.88rem}
.legend{display:flex;flex-wrap:wrap;gap:.35rem 1rem;list-style:none;padding:0;margin:0 0 .8rem;font-size:.82rem;color:var(--muted)}
.legend li{display:flex;align-items:center;gap:.35rem}
.key{display:inline-block;width:1.1rem;height:.9rem;border-radius:3px;border:1px solid var(--line)}
.key-marker{width:auto;height:auto;padding:0 .3rem;background:var(--fg);color:var(--bg);font-size:.7rem;font-weight:700}
.chart-wrap{margin:0 0 .6rem}.chart{width:100%;height:auto;max-height:280px;display:block}
.chart .grid{stroke:var(--line);stroke-width:1}.chart .grid-x{stroke-dasharray:2 4}.chart .axis{stroke:var(--muted)}
.chart .tick{fill:var(--muted);font-size:11px}
.line{fill:none;stroke-width:2}.series-benign{stroke:var(--benign)}.series-refuse{stroke:var(--refuse);stroke-dasharray:6 3}
circle.series-benign{fill:var(--benign);stroke:none}circle.series-refuse{fill:var(--refuse);stroke:none}
.band{opacity:.18}.band-benign{fill:var(--benign)}.band-refuse{fill:var(--refuse)}
.ref{stroke-width:1.5;stroke-dasharray:3 3}.ref-benign{stroke:var(--benign)}.ref-refuse{stroke:var(--refuse)}
.marker line{stroke:var(--fg);stroke-width:1;stroke-dasharray:4 3}.marker rect{fill:var(--fg)}.marker text{fill:var(--bg);font-size:10px;font-weight:700}
.swatch{flex:none}.swatch .line{stroke-width:2.5}
.empty{padding:1rem 1.1rem;border:1px dashed var(--line);border-radius:10px;background:var(--card);color:var(--muted)}
.empty p{margin:.2rem 0}.empty strong{color:var(--fg)}
.all-clear{border-style:solid}
.notice{background:var(--warn-bg);color:var(--warn);border-radius:8px;padding:.4rem .8rem;margin:0 0 .8rem}.notice ul,.notice p{margin:0}
ul.inline{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem .6rem}
ul.notes{list-style:none;margin:0;padding:0;font-size:.8rem}.nt-failed,.nt-expired{color:var(--bad)}.nt-queued{color:var(--warn)}
.sev{font-size:.78rem;font-weight:700;text-transform:uppercase}.sev-critical{color:var(--bad)}.sev-warning{color:var(--warn)}.sev-info{color:var(--muted)}
.summary{min-width:16rem}.why{min-width:14rem;font-size:.85rem}
tr.finding td{background:var(--card);border-top:0}tr.finding p{margin:.2rem 0}blockquote.excerpt{margin:.3rem 0;padding:.3rem .7rem;border-left:3px solid var(--line);font-family:ui-monospace,monospace;font-size:.85rem;white-space:pre-wrap;overflow-wrap:anywhere}
.updated{color:var(--muted);font-size:.82rem;margin:.5rem 0}
#live-status.stale{color:var(--bad)}
.foot{padding:.5rem 1.25rem 1.5rem;color:var(--muted);font-size:.8rem;max-width:1500px;margin:0 auto}
@media (max-width:640px){main{padding:.5rem .6rem}.cards{grid-template-columns:1fr 1fr;gap:.5rem}.card a{padding:.5rem .6rem}.top{padding:.5rem .6rem}.panel{padding:.6rem}.group-cost{float:none;display:block}nav a{padding:.3rem .45rem;font-size:.9rem}h1{font-size:1.25rem}}
@media print{nav,.controls,.updated{display:none}}
`;

/**
 * Every `poll` ms, fetch the page's live fragment and swap it in; pause while the tab is hidden; say when it
 * fails. The page works without it (server-rendered, with a meta refresh under <noscript>).
 */
export const JS = `(() => {
  'use strict';
  const live = document.getElementById('live');
  const status = document.getElementById('live-status');
  if (!live || !status || !window.fetch) return;
  const url = live.getAttribute('data-live');
  const every = Math.max(2000, Number(live.getAttribute('data-poll')) || 15000);
  let busy = false;
  async function refresh() {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const res = await fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const body = await res.json();
      const open = Array.from(live.querySelectorAll('details[open][id]'), (d) => d.id);
      live.innerHTML = body.html;
      for (const id of open) { const d = document.getElementById(id); if (d) d.setAttribute('open', ''); }
      live.setAttribute('data-generated', body.generatedAt);
      status.innerHTML = 'Updated ' + body.updated + '. Live: refreshes every ' + Math.round(every / 1000) + ' s.';
      status.classList.remove('stale');
    } catch (err) {
      status.textContent = 'Live updates paused (' + (err && err.message ? err.message : 'network error') + '); retrying every ' + Math.round(every / 1000) + ' s. The figures below may be stale.';
      status.classList.add('stale');
    } finally {
      busy = false;
    }
  }
  setInterval(refresh, every);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
  for (const form of document.querySelectorAll('form[data-autosubmit]')) {
    for (const el of form.querySelectorAll('select')) el.addEventListener('change', () => form.requestSubmit ? form.requestSubmit() : form.submit());
  }
})();
`;
