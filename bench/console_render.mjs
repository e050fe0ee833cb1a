// bench/console.sh's browser half: makes a 64 KB output of about 150
// excerpts of the sample prose, scans it through the console, and times the
// scan view's render after the response. argv: base URL, prose dir, rounds.
// Prints one JSON object.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const [base, proseDir, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg || 15);
const require = createRequire(path.join(process.env.RECITAL_TEST_NODE_MODULES, 'noop.js'));
const { chromium } = require('playwright-core');

// A seeded generator, so that every run scans the same output.
let seed = 20261207;
const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };

function files(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]);
}
const docs = files(proseDir).filter((f) => f.endsWith('.txt')).map((f) => fs.readFileSync(f, 'utf8').split(/\s+/).filter(Boolean));
const syllables = ['ka', 'lo', 'mi', 'zu', 'te', 'ran', 'vos', 'pel', 'qui', 'dor', 'fen', 'gha'];
const filler = (n) => Array.from({ length: n }, () => syllables[rand(12)] + syllables[rand(12)] + syllables[rand(12)]).join(' ');
let out = '';
for (let i = 0; i < 150; i += 1) {
  const words = docs[rand(docs.length)];
  const at = rand(Math.max(1, words.length - 60));
  out += filler(26) + '.\n' + words.slice(at, at + 45).join(' ') + '\n';
}
out = out.slice(0, 64 * 1024);

const userData = fs.mkdtempSync(path.join(os.tmpdir(), 'recital-bench-chromium-'));
const ctx = await chromium.launchPersistentContext(userData, {
  executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await ctx.newPage();
await page.goto(base + '/console/login');
await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
await page.goto(base + '/console/');
await page.fill('#text', out);
await Promise.all([page.waitForNavigation({ timeout: 120000 }), page.click('#scan')]);
const url = page.url();
const render = [];
const dcl = [];
let pageBytes = 0;
for (let i = 0; i <= rounds; i += 1) {
  const resp = await page.goto(url, { waitUntil: 'load' });
  pageBytes = (await resp.body()).length;
  const t = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0];
    return { render: n.loadEventEnd - n.responseEnd, dcl: n.domContentLoadedEventEnd - n.responseEnd };
  });
  if (i > 0) { render.push(t.render); dcl.push(t.dcl); }
}
const spans = await page.locator('mark.span').count();
const sources = await page.locator('ol.sources > li').count();
const ua = await page.evaluate(() => navigator.userAgent);
const browser = 'Chromium ' + ((ua.match(/Chrome\/([\d.]+)/) || [])[1] || '?');
await ctx.close();
fs.rmSync(userData, { recursive: true, force: true });
const sorted = (a) => [...a].sort((x, y) => x - y);
const p50 = (a) => sorted(a)[Math.floor(a.length / 2)];
console.log(JSON.stringify({
  output_bytes: Buffer.byteLength(out), spans, sources, page_bytes: pageBytes, rounds,
  render_p50_ms: p50(render), render_max_ms: Math.max(...render), dcl_p50_ms: p50(dcl), render_ms: render, browser,
}));
