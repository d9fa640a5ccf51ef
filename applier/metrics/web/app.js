// The live page of pgparity verify/audit, and of cutover. Every 2 s it
// reads, from the server that served it (relative URLs, so it also works
// behind a proxy's path prefix), `status` (the last report,
// docs/report.md), `metrics` (Prometheus text, docs/cli.md "Metrics") and
// `readyz`, and redraws. When `status` is {"cutover": report so far}
// (pgparity cutover --metrics-listen, docs/cli.md "cutover"), it shows the
// cutover's phases instead, and reads nothing else.
//
// Every value from the report or the metrics reaches the DOM through
// textContent or an attribute, never as HTML: table names, keys and row
// values are data and may hold anything.
'use strict';

const POLL_MS = 2000;
const WINDOW_MS = 5 * 60 * 1000; // what the charts keep
const PALETTE = ['#0969da', '#8250df', '#bf3989', '#1b7c83', '#9a6700'];

const history = { lag: new Map(), rate: new Map() }; // series name -> [{t, v}]
let lastStatusAt = 0;

// ---- DOM helpers: text only. ----
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function $(id) { return document.getElementById(id); }
function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
// A class name from data: only [a-z_], so a value cannot smuggle markup or
// other classes in.
function token(v) { return String(v).toLowerCase().replace(/[^a-z_]/g, ''); }
function pill(text, kind) { return el('span', 'pill ' + token(kind === undefined ? text : kind), text); }

// ---- Formatting. ----
function fmtInt(n) {
  return (n === null || n === undefined) ? '\u2014' : Number(n).toLocaleString('en-US');
}
function fmtBytes(b) {
  if (b === null || b === undefined || !isFinite(b)) return '\u2014';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (Math.abs(b) >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return (i === 0 ? b.toFixed(0) : b.toFixed(b < 10 ? 1 : 0)) + ' ' + units[i];
}
function fmtRate(r) {
  if (!isFinite(r)) return '\u2014';
  return (r >= 100 ? r.toFixed(0) : r.toFixed(1)) + '/s';
}
function fmtAge(seconds) {
  if (!isFinite(seconds) || seconds < 0) return '';
  if (seconds < 90) return Math.round(seconds) + ' s ago';
  if (seconds < 5400) return Math.round(seconds / 60) + ' min ago';
  return Math.round(seconds / 3600) + ' h ago';
}
function keyText(key) {
  if (!key || typeof key !== 'object') return '(no key: rows compared as a multiset)';
  const parts = Object.keys(key).map(k => k + '=' + (key[k] === null ? 'NULL' : key[k]));
  return parts.length ? parts.join(', ') : '(no key)';
}

// ---- The Prometheus text format: name{labels} value. ----
function parseLabels(s) {
  const labels = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  let m;
  while ((m = re.exec(s)) !== null) {
    labels[m[1]] = m[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
  }
  return labels;
}
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (m) samples.push({ name: m[1], labels: parseLabels(m[2] || ''), value: Number(m[3]) });
  }
  return samples;
}
function pick(samples, name) { return samples.filter(s => s.name === name); }

// ---- The verdict and the facts beside it. ----
function renderVerdict(report, ready) {
  const v = $('verdict');
  const status = typeof report.status === 'string' ? report.status : 'unknown';
  v.textContent = status;
  v.dataset.status = token(status);
  let note;
  if (status === 'starting') {
    note = 'no full check has finished yet' + (ready ? ' \u2014 ' + ready : '');
  } else {
    const tables = Array.isArray(report.tables) ? report.tables : [];
    const match = tables.filter(t => t.status === 'match').length;
    note = match + ' of ' + tables.length + ' tables match';
    if (report.checked_at) {
      note += ' \u00b7 checked ' + fmtAge((Date.now() - Date.parse(report.checked_at)) / 1000);
    }
  }
  $('verdict-note').textContent = note;
  const facts = $('facts');
  clear(facts);
  const rows = [
    ['source', report.source], ['target', report.target],
    ['publication', report.publication], ['subscription', report.subscription],
    ['compared at', report.source_lsn ? 'source LSN ' + report.source_lsn : null],
    ['checked', report.checked_at],
  ];
  for (const [k, val] of rows) {
    if (val === undefined || val === null || val === '') continue;
    facts.appendChild(el('dt', null, k));
    facts.appendChild(el('dd', 'mono', val));
  }
  document.title = 'pgparity: ' + status;
}

// ---- The per-table grid. ----
function digestCell(t) {
  if (!t.source_digest || !t.target_digest) return el('td', 'hide-narrow', '\u2014');
  const td = el('td', 'hide-narrow');
  const same = t.source_digest === t.target_digest;
  td.appendChild(pill(same ? 'match' : 'differs', same ? 'yes' : 'no'));
  td.title = 'source ' + t.source_digest + '\ntarget ' + t.target_digest;
  return td;
}
function renderTables(report) {
  const body = $('tables').tBodies[0];
  clear(body);
  const tables = Array.isArray(report.tables) ? report.tables : [];
  if (!tables.length) {
    const tr = el('tr');
    const td = el('td', 'empty', report.status === 'starting' ? 'waiting for the first full check' : 'no tables');
    td.colSpan = 8;
    tr.appendChild(td);
    body.appendChild(tr);
    return;
  }
  for (const t of tables) {
    const tr = el('tr');
    tr.dataset.table = String(t.table);
    tr.appendChild(el('td', 'mono', t.table));
    const st = el('td');
    st.appendChild(pill(t.status));
    tr.appendChild(st);
    tr.appendChild(el('td', 'num', fmtInt(t.source_rows)));
    tr.appendChild(el('td', 'num', fmtInt(t.target_rows)));
    tr.appendChild(digestCell(t));
    tr.appendChild(el('td', 'num', fmtInt(t.divergent_row_count)));
    tr.appendChild(el('td', 'mono hide-narrow', report.checked_at || '\u2014'));
    tr.appendChild(el('td', 'hide-narrow', t.reason || ''));
    body.appendChild(tr);
  }
}

// ---- The divergent rows, with their values when the report has them. ----
function sideCell(entry, side) {
  if (!(side in entry)) return el('td', 'null', '(no row)');
  const v = entry[side];
  if (v === null) return el('td', 'null', 'NULL');
  const td = el('td', 'mono' + (v.truncated ? ' cut' : ''), v.text);
  if (v.md5) td.title = v.bytes + ' bytes, md5 ' + v.md5;
  return td;
}
function valuesTable(values) {
  const table = el('table', 'grid values');
  const head = el('tr');
  for (const h of ['column', 'source', 'target']) head.appendChild(el('th', null, h));
  table.appendChild(el('thead')).appendChild(head);
  const body = table.appendChild(el('tbody'));
  for (const entry of values) {
    const tr = el('tr');
    tr.appendChild(el('td', 'mono', entry.column));
    tr.appendChild(sideCell(entry, 'source'));
    tr.appendChild(sideCell(entry, 'target'));
    body.appendChild(tr);
  }
  return table;
}
function rowCard(table, r, redacted) {
  const card = el('div', 'row');
  const head = card.appendChild(el('div', 'row-head'));
  head.appendChild(el('span', 'row-key mono', keyText(r.key)));
  head.appendChild(pill(r.kind));
  head.appendChild(el('span', 'row-table mono', table));
  if (Array.isArray(r.columns) && r.columns.length) {
    head.appendChild(el('span', 'row-cols', 'columns: ' + r.columns.join(', ')));
  }
  if (Array.isArray(r.values)) {
    card.appendChild(el('div', 'scroll')).appendChild(valuesTable(r.values));
  } else {
    card.appendChild(el('p', 'empty', redacted ? 'values not shown (--redact)' : 'values not read'));
  }
  if (r.provenance && typeof r.provenance.diagnosis === 'string') {
    card.appendChild(el('p', 'empty', 'provenance: ' + r.provenance.diagnosis));
  }
  return card;
}
function renderDivergent(report) {
  const box = $('divergent');
  clear(box);
  let listed = 0, total = 0;
  for (const t of Array.isArray(report.tables) ? report.tables : []) {
    const rows = Array.isArray(t.divergent_rows) ? t.divergent_rows : [];
    total += Number(t.divergent_row_count) || 0;
    for (const r of rows) {
      box.appendChild(rowCard(t.table, r, report.redacted === true));
      listed++;
    }
  }
  if (!listed) box.appendChild(el('p', 'empty', 'none'));
  if (total > listed) box.appendChild(el('p', 'empty', (total - listed) + ' more not listed (--max-rows)'));
  $('divergent-count').textContent = total ? '(' + total + ')' : '';
}
function renderNotes(report) {
  const ul = $('notes');
  clear(ul);
  for (const n of Array.isArray(report.notes) ? report.notes : []) ul.appendChild(el('li', null, n));
  if (!ul.firstChild) ul.appendChild(el('li', null, 'none'));
}

// ---- Slots and their retained WAL. ----
function renderSlots(samples) {
  const body = $('slots').tBodies[0];
  clear(body);
  const retained = pick(samples, 'pgparity_slot_retained_wal_bytes');
  const lag = new Map(pick(samples, 'pgparity_slot_lag_bytes').map(s => [s.labels.slot, s.value]));
  const max = Math.max(1, ...retained.map(s => s.value));
  for (const s of retained) {
    const tr = el('tr');
    tr.appendChild(el('td', 'mono', s.labels.slot));
    tr.appendChild(el('td', 'num', fmtBytes(s.value)));
    const barCell = tr.appendChild(el('td', 'wal'));
    const bar = barCell.appendChild(el('div', 'bar'));
    bar.appendChild(el('div')).style.width = Math.max(1, (100 * s.value) / max).toFixed(1) + '%';
    tr.appendChild(el('td', 'num', fmtBytes(lag.get(s.labels.slot))));
    body.appendChild(tr);
  }
  if (!retained.length) {
    const tr = body.appendChild(el('tr'));
    const td = tr.appendChild(el('td', 'empty', 'no slot figures (the source could not be read?)'));
    td.colSpan = 4;
  }
}

// ---- Charts on <canvas>: the last WINDOW_MS of each series. ----
function record(store, name, t, v) {
  if (!isFinite(v)) return;
  if (!store.has(name)) store.set(name, []);
  const points = store.get(name);
  points.push({ t, v });
  while (points.length && points[0].t < t - WINDOW_MS) points.shift();
}
function niceMax(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
// `floor`: the smallest top of the scale (a flat zero line stays readable).
function drawChart(canvas, legend, store, fmt, floor) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (!w || !h) return;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const now = Date.now();
  const left = 64, right = 8, top = 8, bottom = 20;
  const pw = w - left - right, ph = h - top - bottom;
  let max = 0;
  for (const pts of store.values()) for (const p of pts) max = Math.max(max, p.v);
  max = niceMax(Math.max(max, floor));
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#59636e';
  g.strokeStyle = '#d1d9e0';
  g.lineWidth = 1;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (let i = 0; i <= 4; i++) {
    const y = top + ph - (ph * i) / 4;
    g.beginPath(); g.moveTo(left, y + 0.5); g.lineTo(left + pw, y + 0.5); g.stroke();
    g.fillText(fmt((max * i) / 4), left - 6, y);
  }
  g.textBaseline = 'top';
  for (let m = 5; m >= 0; m--) {
    // The outer labels align inwards so that they stay inside the canvas.
    g.textAlign = m === 5 ? 'left' : m === 0 ? 'right' : 'center';
    g.fillText(m ? '-' + m + ' min' : 'now', left + pw - (pw * m * 60000) / WINDOW_MS, top + ph + 4);
  }
  clear(legend);
  let i = 0;
  for (const [name, pts] of store) {
    const color = PALETTE[i++ % PALETTE.length];
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    pts.forEach((p, k) => {
      const x = left + pw - (pw * (now - p.t)) / WINDOW_MS;
      const y = top + ph - (ph * p.v) / max;
      if (k === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    if (pts.length === 1) g.arc(left + pw, top + ph - (ph * pts[0].v) / max, 2, 0, 2 * Math.PI);
    g.stroke();
    const item = legend.appendChild(el('span'));
    item.appendChild(el('span', 'swatch')).style.background = color;
    item.appendChild(document.createTextNode(name + ': ' + (pts.length ? fmt(pts[pts.length - 1].v) : '\u2014')));
  }
  if (!store.size) legend.appendChild(el('span', null, 'no data yet'));
}
function recordMetrics(samples) {
  const t = Date.now();
  for (const s of pick(samples, 'pgparity_subscription_apply_lag_bytes')) record(history.lag, 'subscription apply lag', t, s.value);
  for (const s of pick(samples, 'pgparity_slot_lag_bytes')) record(history.lag, 'slot ' + s.labels.slot, t, s.value);
  // The server's own rate: changes since the previous scrape over real time.
  for (const s of pick(samples, 'pgparity_decode_rate_changes_per_second')) record(history.rate, 'changes decoded', t, s.value);
}
function drawCharts() {
  drawChart($('lag-chart'), $('lag-legend'), history.lag, fmtBytes, 4096);
  drawChart($('rate-chart'), $('rate-legend'), history.rate, fmtRate, 10);
}

// ---- A cutover's phases (status = {"cutover": report so far}). ----
const PHASES = ['gates', 'catch_up', 'pre_check', 'fence', 'drain', 'final_check', 'sequences',
  'reverse', 'switch'];
function fmtSeconds(s) {
  return (typeof s === 'number' && isFinite(s)) ? s.toFixed(s < 10 ? 2 : 1) + ' s' : '\u2014';
}
// What the verdict box says: the report's status, "aborting" while a
// failed phase's abort runs.
function cutoverStatus(c) {
  const status = typeof c.status === 'string' && c.status ? c.status : 'running';
  return status === 'running' && c.failed_phase ? 'aborting' : status;
}
// Seconds since an ISO 8601 time of the server's clock, or NaN.
function since(iso) { return iso ? (Date.now() - Date.parse(iso)) / 1000 : NaN; }
function phaseRow(name, outcome, seconds, detail) {
  const tr = el('tr');
  tr.dataset.phase = token(name);
  tr.appendChild(el('td', 'mono', name));
  const kind = outcome === 'ok' ? 'yes' : outcome === 'failed' ? 'no' : outcome;
  tr.appendChild(el('td')).appendChild(pill(String(outcome).replace(/_/g, ' '), kind));
  tr.appendChild(el('td', 'num', seconds));
  tr.appendChild(el('td', null, detail || ''));
  return tr;
}
// The phases run, the one running, then those still to come (or, once the
// cutover ended, not run). `reverse` only shows when it ran or runs.
function renderPhases(c, status) {
  const body = $('phases').tBodies[0];
  clear(body);
  const done = Array.isArray(c.phases) ? c.phases : [];
  for (const p of done) body.appendChild(phaseRow(p.name, p.outcome, fmtSeconds(p.seconds), p.detail));
  const current = typeof c.current_phase === 'string' ? c.current_phase : '';
  if (current) {
    const last = done.length ? done[done.length - 1].ended : null;
    const t = since(last);
    body.appendChild(phaseRow(current, 'running', isFinite(t) && t >= 0 ? fmtSeconds(t) + ' so far' : '\u2014', ''));
  }
  const seen = new Set(done.map(p => p.name).concat(current ? [current] : []));
  const ended = status !== 'running';
  let from = 0;
  for (const n of seen) from = Math.max(from, PHASES.indexOf(n) + 1);
  for (const n of PHASES.slice(from)) {
    if (n === 'reverse') continue;
    body.appendChild(phaseRow(n, ended ? 'not_run' : 'pending', '', ''));
  }
}
function factRows(dl, rows) {
  clear(dl);
  for (const [k, val] of rows) {
    if (val === undefined || val === null || val === '') continue;
    dl.appendChild(el('dt', null, k));
    dl.appendChild(el('dd', 'mono', val));
  }
}
function windowText(c, status) {
  if (c.window_seconds) return fmtSeconds(c.window_seconds) + ' (PAUSE to RESUME)';
  // Fence's start is PAUSE's, to within its connection's round trip.
  const fence = (Array.isArray(c.phases) ? c.phases : []).find(p => p.name === 'fence');
  if (status === 'running' && fence && fence.outcome === 'ok') {
    const t = since(fence.started);
    return 'open' + (isFinite(t) && t >= 0 ? ', ' + fmtSeconds(t) + ' so far' : '') + ' (clients wait)';
  }
  if (c.current_phase === 'fence') return 'opening (PAUSE)';
  return null;
}
function renderCanary(c) {
  const box = $('cutover-canary');
  clear(box);
  const k = c.canary;
  if (!k || typeof k !== 'object') return;
  box.appendChild(el('h3', null, 'Canary'));
  const dl = box.appendChild(el('dl', 'cutover-facts'));
  dl.id = 'canary-facts';
  const lat = k.latency_ms || {};
  const check = k.check && typeof k.check === 'object' ? k.check : null;
  factRows(dl, [
    ['acknowledged', fmtInt(k.acknowledged)], ['failed', fmtInt(k.failed)],
    ['in doubt', fmtInt(k.in_doubt)], ['reconnects', fmtInt(k.reconnects)],
    ['longest stall', typeof k.longest_stall_ms === 'number' ? k.longest_stall_ms.toFixed(1) + ' ms' : null],
    ['latency p50 / p99 / max', [lat.p50, lat.p99, lat.max].map(v => typeof v === 'number' ? v.toFixed(1) : '\u2014').join(' / ') + ' ms'],
    ['missing', check ? fmtInt(check.missing) + ' of ' + fmtInt(check.checked) + ' acknowledged writes, on ' + check.server : null],
  ]);
}
function renderCutover(c) {
  const status = cutoverStatus(c);
  const v = $('verdict');
  v.textContent = status;
  v.dataset.status = token(status);
  document.title = 'pgparity cutover: ' + status;
  const current = typeof c.current_phase === 'string' ? c.current_phase : '';
  $('verdict-note').textContent = 'cutover' + (current ? ' \u00b7 ' + current + ' running' : '');
  $('cutover-now').textContent = current ? '(' + current + ' running)' : '';
  factRows($('facts'), [['phase', current || null], ['failed in', c.failed_phase || null]]);
  renderPhases(c, status);
  const failure = $('cutover-failure');
  failure.hidden = !c.failed_phase;
  failure.textContent = c.failed_phase ? 'failed in ' + c.failed_phase + ': ' + (c.reason || '') : '';
  const seqs = Array.isArray(c.sequences) ? c.sequences : [];
  factRows($('cutover-facts'), [
    ['window', windowText(c, status)],
    ['fence LSN', c.fence_lsn],
    ['sessions terminated', c.fence_lsn ? fmtInt(c.terminated_sessions) : null],
    ['rows checked before the window', c.pre_check_change_rows ? fmtInt(c.pre_check_change_rows) : null],
    ['rows checked at the fence', c.final_check_rows ? fmtInt(c.final_check_rows) : null],
    ['sequences copied', seqs.length ? fmtInt(seqs.length) : null],
  ]);
  renderCanary(c);
  const lines = $('cutover-lines');
  clear(lines);
  const add = (prefix, list) => {
    for (const line of Array.isArray(list) ? list : []) lines.appendChild(el('li', null, prefix + line));
  };
  add('divergent: ', c.divergent_rows);
  add('restored: ', c.restored);
  add('', c.notes);
  add('plan: ', c.plan);
}

// ---- Polling. ----
function banner(text, isError) {
  const b = $('banner');
  b.hidden = !text;
  b.textContent = text || '';
  b.className = 'banner' + (isError ? ' error' : '');
}
async function fetchText(path) {
  const r = await fetch(path, { cache: 'no-store' });
  return { ok: r.ok, status: r.status, text: await r.text() };
}
// A cutover's page reads only `status`; a check's also `readyz` (for the
// note under the verdict) and `metrics`.
async function poll() {
  const problems = [];
  let report = null;
  try {
    const r = await fetchText('status');
    if (!r.ok) throw new Error('HTTP ' + r.status);
    report = JSON.parse(r.text);
    lastStatusAt = Date.now();
  } catch (e) { problems.push('status: ' + e.message); }
  const cutover = report && report.cutover && typeof report.cutover === 'object';
  document.body.dataset.mode = cutover ? 'cutover' : 'check';
  $('cutover').hidden = !cutover;
  let ready = '';
  if (cutover) {
    renderCutover(report.cutover);
  } else {
    ready = await pollCheck(report, problems);
  }
  if (problems.length) {
    const since = lastStatusAt ? ' \u2014 showing what was read ' + fmtAge((Date.now() - lastStatusAt) / 1000) : '';
    banner('cannot read pgparity (' + problems.join('; ') + ')' + since, true);
  } else {
    banner(ready, false);
  }
}
// A check's page: the report (when read), the probe, the metrics. Returns
// the not-ready reason ('' when ready).
async function pollCheck(report, problems) {
  let ready = '';
  try {
    const r = await fetchText('readyz');
    if (!r.ok) ready = 'not ready: ' + r.text.trim();
  } catch (e) { problems.push('readyz: ' + e.message); }
  if (report) {
    renderVerdict(report, ready);
    renderTables(report);
    renderDivergent(report);
    renderNotes(report);
  }
  try {
    const r = await fetchText('metrics');
    if (!r.ok) throw new Error('HTTP ' + r.status);
    const samples = parseMetrics(r.text);
    recordMetrics(samples);
    renderSlots(samples);
  } catch (e) { problems.push('metrics: ' + e.message); }
  drawCharts();
  return ready;
}
async function loop() {
  await poll();
  setTimeout(loop, POLL_MS);
}
window.addEventListener('resize', () => { if (document.body.dataset.mode !== 'cutover') drawCharts(); });
loop();
