// The web console in a real browser (Debian's Chromium driven by
// playwright-core), started by tests/console.rs against the real
// `recital serve`. Each flow asserts as it goes; a failed assertion exits
// non-zero with its message. On success, a JSON summary goes to stdout for
// the Rust side to check again.
//
// argv[2]: JSON {base, keys: {admin, rightsholder, client}, demo, quote,
//                shots, html_file, report_run}
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const cfg = JSON.parse(process.argv[2]);
const modules = process.env.RECITAL_TEST_NODE_MODULES;
const require = createRequire(path.join(modules, 'noop.js'));
const { chromium } = require('playwright-core');
const axeSource = fs.readFileSync(path.join(modules, 'axe-core', 'axe.min.js'), 'utf8');

const summary = { flows: [], decisions: {}, axe: {}, screenshots: [] };
fs.mkdirSync(cfg.shots, { recursive: true });

async function shot(page, name) {
  const file = path.join(cfg.shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  summary.screenshots.push(file);
}

// axe-core on the page as it stands: no serious or critical violation.
async function accessible(page, name) {
  await page.evaluate(axeSource);
  const res = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  });
  summary.axe[name] = res;
  const bad = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${name}: serious accessibility violations: ${JSON.stringify(bad)}`);
}

async function signIn(page, key) {
  await page.goto(cfg.base + '/console/');
  assert.match(page.url(), /\/console\/login\?next=/, 'an anonymous visit goes to the sign-in page');
  await page.fill('#key', key);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert.equal(new URL(page.url()).pathname, '/console/', 'after sign-in: the scan form');
}

async function signOut(page) {
  await page.goto(cfg.base + '/console/');
  await Promise.all([page.waitForNavigation(), page.click('header form.who button')]);
  assert.match(page.url(), /\/console\/login/);
}

async function scan(page, text) {
  await page.goto(cfg.base + '/console/');
  await page.fill('#text', text);
  await Promise.all([page.waitForNavigation(), page.click('#scan')]);
  assert.match(page.url(), /\/console\/scans\/req-[0-9a-f]{16}$/, 'a scan answers with its stable URL');
  return (await page.textContent('#decision-h .badge')).trim();
}

async function citedLabels(page) {
  return page.$$eval('.docs button.cite', (bs) => bs.map((b) => b.textContent.trim()));
}

// 1. Sign-in: a wrong key is refused, a right one gives an HttpOnly,
//    SameSite=Strict session cookie.
async function signInFlow(ctx, page) {
  await page.goto(cfg.base + '/console/');
  await shot(page, '01-sign-in');
  await accessible(page, 'sign-in');
  await page.fill('#key', 'not-a-key-at-all-0000');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert.match(await page.textContent('.error'), /not known/);
  await signIn(page, cfg.keys.client);
  const cookie = (await ctx.cookies()).find((c) => c.name === 'recital_console');
  assert.ok(cookie, 'a session cookie is set');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie.includes('recital_console=')), false,
    'scripts cannot read the session cookie');
  await shot(page, '02-scan-form');
  await accessible(page, 'scan-form');
  summary.flows.push('sign-in');
}

// 2. Scan, then span -> source -> back, the JSON export, the snippet limit.
async function scanFlow(page) {
  summary.decisions.demo = await scan(page, cfg.demo);
  const marks = await page.$$eval('mark.span', (ms) => ms.map((m) => ({
    id: m.id, kinds: m.className, docs: m.dataset.docs })));
  assert.ok(marks.length >= 3, `the demo output has several spans, got ${marks.length}`);
  const kinds = new Set(marks.map((m) => m.kinds.match(/k-([a-z-]+)/)[1]));
  for (const k of ['exact', 'near', 'code-canonical']) assert.ok(kinds.has(k), `a ${k} span is shown`);
  summary.kinds = [...kinds].sort();
  await shot(page, '03-scan-view');
  await accessible(page, 'scan-view');

  const first = marks[0];
  await page.click('#' + first.id);
  const i = first.id.slice('span-'.length);
  const detail = page.locator('#detail-' + i);
  assert.equal(await detail.isVisible(), true, 'a click on a span opens its sources');
  const text = await detail.textContent();
  for (const field of ['Document', 'Licence', 'Holder', 'URL', 'Snippet']) assert.ok(text.includes(field), field);
  await shot(page, '04-span-sources');
  // A source highlights every span that cites it, and only those.
  const cite = detail.locator('button.cite').first();
  const doc = await cite.getAttribute('data-doc');
  await cite.click();
  const cited = await page.$$eval('mark.span.cited', (ms) => ms.map((m) => m.dataset.docs));
  const expected = marks.filter((m) => m.docs.split(' ').includes(doc)).length;
  assert.ok(cited.length >= 1 && cited.length === expected, `cited ${cited.length}, expected ${expected}`);
  assert.match(await page.textContent('#status'), new RegExp(`${expected} span\\(s\\) cite`));
  await shot(page, '05-source-highlight');
  await detail.locator('button.back').click();
  assert.equal(await page.evaluate(() => document.activeElement.id), first.id, 'back returns to the span');

  // No snippet longer than the API's limit (240 bytes, and an ellipsis).
  const longest = await page.$$eval('q.snippet', (qs) =>
    Math.max(0, ...qs.map((q) => new TextEncoder().encode(q.textContent).length)));
  assert.ok(longest <= 243, `a snippet of ${longest} bytes is shown`);
  summary.longest_snippet = longest;

  const href = await page.getAttribute('#export', 'href');
  const res = await page.request.get(cfg.base + href);
  assert.equal(res.status(), 200);
  const json = await res.json();
  assert.equal('/console/scans/' + json.request_id, new URL(page.url()).pathname);
  assert.equal(json.report.schema, 'recital.scan/1');
  assert.equal(json.decision.action, summary.decisions.demo);
  summary.export_spans = json.report.spans.length;
  summary.shown_spans = marks.length;
  summary.scan_url = page.url();
  summary.flows.push('scan, span -> source -> back, export');
}

// 3. The side-by-side view of a near and a code-canonical span.
async function sideBySideFlow(page) {
  for (const kind of ['near', 'code-canonical']) {
    const id = await page.$eval(`mark.span.k-${kind}`, (m) => m.id);
    await page.click('#' + id);
    const detail = page.locator('#detail-' + id.slice('span-'.length));
    const table = detail.locator('table.aligned').first();
    assert.equal(await table.isVisible(), true, `${kind}: the aligned view is shown`);
    const tags = await table.locator('tbody tr').evaluateAll((rs) => rs.map((r) => r.className));
    assert.ok(tags.includes('row-same'), `${kind}: aligned rows`);
    assert.ok(tags.some((t) => t !== 'row-same'), `${kind}: differences are marked (${tags})`);
    const marked = await table.locator('ins, del').count();
    assert.ok(marked > 0, `${kind}: <ins>/<del> marks`);
    await table.scrollIntoViewIfNeeded();
    await shot(page, `06-side-by-side-${kind}`);
  }
  summary.flows.push('side-by-side');
}

// 4. Keyboard only: Tab to the first span, n/p between spans, Enter opens,
//    Escape goes back.
async function keyboardFlow(page) {
  await page.goto(summary.scan_url);
  let active = '';
  for (let n = 0; n < 40 && !active.startsWith('span-'); n += 1) {
    await page.keyboard.press('Tab');
    active = await page.evaluate(() => document.activeElement.id || document.activeElement.tagName);
  }
  assert.equal(active, 'span-0', 'Tab reaches the first span');
  await page.keyboard.press('n');
  const second = await page.evaluate(() => document.activeElement.id);
  assert.match(second, /^span-\d+$/);
  assert.notEqual(second, 'span-0', 'n moves to the next span');
  await page.keyboard.press('p');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'span-0', 'p moves back');
  await page.keyboard.press('n');
  await page.keyboard.press('Enter');
  const opened = await page.evaluate(() => document.activeElement.id);
  assert.equal(opened, 'detail-' + second.slice('span-'.length), 'Enter opens the span and focuses its sources');
  await page.keyboard.press('Escape');
  assert.equal(await page.evaluate(() => document.activeElement.id), second, 'Escape returns to the span');
  await page.keyboard.press('Tab');
  const after = await page.evaluate(() => document.activeElement.id);
  assert.match(after, /^span-\d+$/, 'Tab goes on to the next span');
  summary.flows.push('keyboard');
}

// 5. CSRF: a form without the session's token, or a sign-in without the
//    pre-session cookie's, is refused.
async function csrfFlow(page) {
  const status = await page.evaluate(async () => {
    const fd = new FormData();
    fd.append('csrf', 'forged');
    fd.append('text', 'anything at all');
    const r = await fetch('/console/scan', { method: 'POST', body: fd });
    return [r.status, await r.text()];
  });
  assert.equal(status[0], 403, 'a scan with a forged token is refused');
  assert.match(status[1], /anti-forgery token/);
  const noToken = await page.request.post(cfg.base + '/console/logout', { form: {} });
  assert.equal(noToken.status(), 403, 'sign-out without a token is refused');
  const login = await page.request.post(cfg.base + '/console/login',
    { form: { key: cfg.keys.admin, csrf: 'guess' }, maxRedirects: 0 });
  assert.equal(login.status(), 403, 'a sign-in without the login cookie is refused');
  const foreign = await page.request.post(cfg.base + '/console/logout',
    { form: { csrf: 'x' }, headers: { Origin: 'http://evil.example' } });
  assert.equal(foreign.status(), 403, 'a foreign origin is refused');
  await page.goto(cfg.base + '/console/');
  await page.evaluate(() => { document.querySelector('form[action="/console/scan"] input[name=csrf]').value = 'stale'; });
  await page.fill('#text', 'some text');
  await Promise.all([page.waitForNavigation(), page.click('#scan')]);
  assert.match(await page.textContent('.error'), /anti-forgery/);
  await shot(page, '07-csrf-refused');
  summary.flows.push('csrf');
}

// 6. The audit log is an admin's: a client gets 403.
async function auditRefusedFlow(page) {
  const r = await page.goto(cfg.base + '/console/audit');
  assert.equal(r.status(), 403);
  assert.match(await page.textContent('.error'), /Only an admin/);
  await shot(page, '08-audit-refused-to-client');
  const works = await page.goto(cfg.base + '/console/works');
  assert.equal(works.status(), 403, 'a client has no registry');
  summary.flows.push('audit refused to a client');
}

// 7. Registry: register a work, rescan and see it cited; file a notice and
//    see the block; withdraw the notice, then the work.
async function registryFlow(page) {
  await signIn(page, cfg.keys.rightsholder);
  await page.goto(cfg.base + '/console/works');
  await accessible(page, 'works');
  await page.fill('#w-title', 'Console Test Work');
  await page.fill('#w-license', 'MIT');
  await page.fill('#w-holder', 'Console Press');
  await page.fill('#w-url', 'https://example.org/console-work');
  // The text as an uploaded file (the form's other way in).
  await page.setInputFiles('#w-file', { name: 'work.txt', mimeType: 'text/plain', buffer: Buffer.from(cfg.work) });
  await page.click('#register');
  await page.waitForSelector('p.ok');
  assert.match(await page.textContent('p.ok'), /Registered work-[0-9a-f]{16} \(Console Test Work\): searchable after \d+ ms/);
  assert.match(await page.textContent('#works'), /Console Test Work/);
  await shot(page, '09-works');

  summary.decisions.registered = await scan(page, cfg.quote);
  const labels = await citedLabels(page);
  assert.ok(labels.includes('Console Test Work'), `the new work is cited at once: ${labels}`);
  assert.equal(summary.decisions.registered, 'annotate', 'MIT: cited, not blocked');
  // The same output uploaded, with itself as the context: nothing is flagged.
  await page.goto(cfg.base + '/console/');
  await page.setInputFiles('#file', { name: 'out.txt', mimeType: 'text/plain', buffer: Buffer.from(cfg.quote) });
  await page.click('summary');
  await page.fill('#context', cfg.quote);
  await Promise.all([page.waitForNavigation(), page.click('#scan')]);
  assert.equal(await page.locator('mark.span').count(), 0, 'text in the context is exempt');
  assert.equal((await page.textContent('#decision-h .badge')).trim(), 'allow');
  await page.goto(summary.scan_url.replace(/req-[0-9a-f]+$/, 'req-0000000000000000'));
  assert.match(await page.textContent('.error'), /retention time, or it was run by another key/);
  // A client's scan is not a rightsholder's to see.
  const other = await page.goto(summary.scan_url);
  assert.equal(other.status(), 404, 'a scan is for the key that ran it (and admins)');

  await page.goto(cfg.base + '/console/notices');
  await accessible(page, 'notices');
  await page.fill('#n-reason', 'Console test: please withhold');
  await page.click('#file-notice');
  await page.waitForSelector('p.ok');
  assert.match(await page.textContent('p.ok'), /in force since \d{4}-\d\d-\d\dT/);
  assert.match(await page.textContent('#notices'), /effective/);
  await shot(page, '10-notices');

  summary.decisions.notified = await scan(page, cfg.quote);
  assert.equal(summary.decisions.notified, 'block', 'a notice blocks at once');
  assert.match(await page.textContent('.rule'), /notified-works/);
  await shot(page, '11-blocked-after-notice');

  await page.goto(cfg.base + '/console/notices');
  await page.click('#notices button[type=submit]');
  await page.waitForSelector('p.ok');
  assert.match(await page.textContent('p.ok'), /Withdrew notice/);
  summary.decisions.notice_withdrawn = await scan(page, cfg.quote);
  assert.equal(summary.decisions.notice_withdrawn, 'annotate', 'a withdrawn notice stops blocking at once');

  await page.goto(cfg.base + '/console/works');
  await page.click('#works button[type=submit]');
  await page.waitForSelector('p.ok');
  summary.decisions.work_withdrawn = await scan(page, cfg.quote);
  assert.ok(!(await citedLabels(page)).includes('Console Test Work'), 'a withdrawn work is no longer cited');
  await signOut(page);
  summary.flows.push('registry: register, cite, notice, block, withdraw');
}

// 8. The audit log for an admin: decisions, the dashboard, filters, a link
//    into the scan view; the reports directory.
async function adminFlow(page) {
  await signIn(page, cfg.keys.admin);
  const r = await page.goto(cfg.base + '/console/audit');
  assert.equal(r.status(), 200);
  const rows = await page.locator('#audit tbody tr').count();
  assert.ok(rows >= 3, `audit rows: ${rows}`);
  assert.match(await page.textContent('#audit'), /block/);
  assert.ok(await page.locator('.dashboard svg rect').count() >= 2, 'the dashboard draws bars');
  assert.match(await page.textContent('.dashboard'), /Console Test Work \(work-[0-9a-f]{16}\)/, 'works by title');
  await shot(page, '12-audit-log');
  await accessible(page, 'audit');
  await page.selectOption('#f-action', 'block');
  await Promise.all([page.waitForResponse((x) => x.url().includes('action=block')), page.click('.filters button')]);
  await page.waitForFunction(() => document.querySelector('#f-action').value === 'block');
  const actions = await page.$$eval('#audit tbody .badge', (bs) => bs.map((b) => b.textContent.trim()));
  assert.ok(actions.length >= 1 && actions.every((a) => a === 'block'), `filtered: ${actions}`);
  // The admin follows a rightsholder's blocked scan into its view.
  await Promise.all([page.waitForURL(/\/console\/scans\//), page.click('#audit tbody a')]);
  assert.equal(await page.textContent('#decision-h .badge'), 'block');
  await page.goto(cfg.base + '/console/reports');
  await Promise.all([page.waitForNavigation(), page.click(`a[href$="${cfg.report_run}/report.html"]`)]);
  assert.match(await page.content(), /Audit report for the console test/);
  summary.flows.push('audit log for an admin, reports');
}

// 9. `recital scan --html`: the file works on its own.
async function standaloneFlow(page) {
  await page.goto('file://' + cfg.html_file);
  const n = await page.locator('mark.span').count();
  assert.ok(n >= 3, `spans in the standalone file: ${n}`);
  await page.click('mark.span >> nth=0');
  assert.equal(await page.locator('#detail-0').isVisible(), true, 'the inline script works');
  await shot(page, '13-standalone-html');
  summary.flows.push('scan --html');
}

const userData = fs.mkdtempSync(path.join(os.tmpdir(), 'recital-console-chromium-'));
const ctx = await chromium.launchPersistentContext(userData, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  bypassCSP: true, // only so that axe-core can be injected; the pages' CSP is checked by the server tests
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = null;
try {
  const page = await ctx.newPage();
  const offsite = [];
  page.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(cfg.base) && !u.startsWith('file://') && !u.startsWith('data:')) offsite.push(u);
  });
  await signInFlow(ctx, page);
  await scanFlow(page);
  await sideBySideFlow(page);
  await keyboardFlow(page);
  await csrfFlow(page);
  await auditRefusedFlow(page);
  await signOut(page);
  await registryFlow(page);
  await adminFlow(page);
  await standaloneFlow(page);
  assert.deepEqual(offsite, [], 'the console loads nothing from elsewhere');
} catch (e) {
  failed = e;
} finally {
  await ctx.close();
  fs.rmSync(userData, { recursive: true, force: true });
}
if (failed) {
  console.error(failed.stack || String(failed));
  console.error('flows passed before the failure: ' + JSON.stringify(summary.flows));
  process.exit(1);
}
console.log(JSON.stringify(summary));
