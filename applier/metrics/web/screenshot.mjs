// Takes a screenshot of the live page after it has polled for a while in
// REAL time, so its charts hold real history (chromium's --screenshot
// takes it at load, or in virtual time). Drives headless chromium over the
// DevTools protocol; regenerates docs/img/audit-page.png:
//
//   node --experimental-websocket applier/metrics/web/screenshot.mjs \
//     URL OUT.png [SECONDS=90] [WIDTH=1280]
//
// Not part of the page (embed.cmake compiles only index.html, style.css and
// app.js into the binary).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, out, seconds = '90', width = '1280'] = process.argv.slice(2);
if (!url || !out) {
  console.error('usage: screenshot.mjs URL OUT.png [SECONDS] [WIDTH]');
  process.exit(2);
}
const profile = mkdtempSync(join(tmpdir(), 'pgparity-shot-'));
const browser = spawn('chromium', ['--headless=new', '--disable-gpu', '--no-sandbox',
  '--hide-scrollbars', '--remote-debugging-port=0', `--user-data-dir=${profile}`,
  `--window-size=${width},900`, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
const done = (code) => { browser.kill(); rmSync(profile, { recursive: true, force: true }); process.exit(code); };

const endpoint = await new Promise((resolve, reject) => {
  let err = '';
  browser.stderr.on('data', (d) => {
    err += d;
    const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
    if (m) resolve(m[1]);
  });
  browser.on('exit', () => reject(new Error('chromium exited: ' + err)));
});
const port = new URL(endpoint).port;
const pages = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
const ws = new WebSocket(pages.find((p) => p.type === 'page').webSocketDebuggerUrl);
await new Promise((r) => ws.addEventListener('open', r));
let nextId = 0;
const pending = new Map();
ws.addEventListener('message', (e) => {
  const msg = JSON.parse(e.data);
  if (pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
});
const send = (method, params = {}) => new Promise((resolve) => {
  const id = ++nextId;
  pending.set(id, resolve);
  ws.send(JSON.stringify({ id, method, params }));
});

await send('Page.navigate', { url });
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
const metrics = await send('Page.getLayoutMetrics');
const height = Math.ceil(metrics.result.cssContentSize.height);
const shot = await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true,
  clip: { x: 0, y: 0, width: Number(width), height, scale: 1 } });
if (!shot.result) { console.error(JSON.stringify(shot.error)); done(1); }
writeFileSync(out, Buffer.from(shot.result.data, 'base64'));
console.log(`${out}: ${width}x${height} after ${seconds} s`);
done(0);
