// The web console in a real browser (Debian's Chromium driven by
// playwright-core), started by tests/console.rs against the real
// `recital serve`. Each flow asserts as it goes; a failed assertion exits
// non-zero with its message. On success, a JSON summary goes to stdout for
// the Rust side to check again.
//
// argv[2]: JSON {base, keys: {admin, rightsholder, client}, demo, quote,
//                shots, html_file, report_run,
//                catalogue: {key, count, ids: {first, last}}, doc_query, doc_id}
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

  // The work is found by its title and chosen from the results.
  await page.goto(cfg.base + '/console/notices?q=' + encodeURIComponent('console test'));
  await accessible(page, 'notices');
  await Promise.all([page.waitForURL(/target_type=work/), page.click('#target-works a.choose')]);
  assert.match(await page.inputValue('#n-target'), /^work-[0-9a-f]{16}$/, 'the choice fills the form');
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

// 10. A rightsholder with more works than any list shows (cfg.catalogue.count,
//     over 1,000): the notice form finds each by title or id, a page at a
//     time, with htmx as one types and with plain GET forms; a typed id
//     files directly; an unknown id is refused in words.
async function targetSearchFlow(page) {
  const cat = cfg.catalogue;
  await signIn(page, cat.key);
  // Without script: the search form's GET, then a choice link.
  const last = String(cat.count - 1).padStart(4, '0');
  await page.goto(cfg.base + '/console/notices?q=' + encodeURIComponent(`Catalogue work ${last}`));
  const rows = await page.$$eval('#target-works tbody tr', (rs) => rs.map((r) => r.textContent));
  assert.equal(rows.length, 1, `one match for the last work: ${rows}`);
  assert.ok(rows[0].includes(cat.ids.last), 'the last work, beyond the first 1,000');
  await Promise.all([page.waitForURL(/target_type=work/), page.click('#target-works a.choose')]);
  assert.equal(await page.inputValue('#n-target'), cat.ids.last);
  assert.equal(await page.isChecked('input[name=target_type][value=work]'), true);
  await page.fill('#n-reason', 'Catalogue: the last work');
  await page.click('#file-notice');
  await page.waitForSelector('p.ok');
  assert.ok((await page.textContent('p.ok')).includes(`work ${cat.ids.last} is in force since`));

  // With htmx: results as one types, in place, and paged.
  await page.goto(cfg.base + '/console/notices');
  const before = page.url();
  await page.fill('#q', 'catalogue WORK 104');
  await page.waitForFunction(() => document.querySelectorAll('#target-works tbody tr').length === 10);
  assert.equal(page.url(), before, 'the results came in place');
  await page.fill('#q', 'Catalogue work');
  await page.waitForFunction(() => document.querySelector('#target-works tbody tr td')?.textContent === 'Catalogue work 0000');
  const first = await page.$$eval('#target-works tbody td:first-child', (ts) => ts.map((t) => t.textContent));
  assert.equal(first.length, 20, 'a page of matches');
  await shot(page, '14-notice-target-search');
  await accessible(page, 'notice-target-search');
  await Promise.all([page.waitForURL(/works_after=/), page.click('#works-next')]);
  const second = await page.$$eval('#target-works tbody td:first-child', (ts) => ts.map((t) => t.textContent));
  assert.equal(second[0], 'Catalogue work 0020', `the next page: ${second[0]}`);

  // A typed id, and one that is nobody's.
  await page.fill('#n-target', cat.ids.first);
  await page.fill('#n-reason', 'Catalogue: the first work, typed');
  await page.click('#file-notice');
  await page.waitForSelector('p.ok');
  assert.ok((await page.textContent('p.ok')).includes(`work ${cat.ids.first}`));
  await page.fill('#n-target', 'work-00000000000000ff');
  await page.fill('#n-reason', 'nothing');
  await page.click('#file-notice');
  await page.waitForSelector('p.error');
  assert.match(await page.textContent('p.error'), /no work "work-00000000000000ff" among your works/);
  assert.equal(await page.inputValue('#n-reason'), 'nothing', 'the form keeps what was typed');
  await shot(page, '15-notice-unknown-work');
  await signOut(page);
  summary.flows.push('notice targets among more than 1,000 works');
}

// 11. An admin finds an indexed document by its id and files on it; an id
//     the index lacks is refused.
async function documentTargetFlow(page) {
  // Signed in as the admin since the audit flow.
  await page.goto(cfg.base + '/console/notices?q=' + encodeURIComponent(cfg.doc_query));
  const docs = await page.$$eval('#target-docs tbody tr td:first-child', (ts) => ts.map((t) => t.textContent));
  assert.ok(docs.includes(cfg.doc_id), `the document is found: ${docs}`);
  await Promise.all([page.waitForURL(/target_type=document/),
    page.click(`#target-docs a.choose[aria-label="File a notice on document ${cfg.doc_id}"]`)]);
  assert.equal(await page.isChecked('input[name=target_type][value=document]'), true);
  await page.fill('#n-reason', 'Admin: a document of the corpus');
  await page.click('#file-notice');
  await page.waitForSelector('p.ok');
  assert.ok((await page.textContent('p.ok')).includes(`document ${cfg.doc_id}`));
  await page.click('#notices tbody tr:last-child button[type=submit]');
  await page.waitForSelector('p.ok');
  await page.check('input[name=target_type][value=document]');
  await page.fill('#n-target', 'no/such/document.txt');
  await page.fill('#n-reason', 'nothing');
  await page.click('#file-notice');
  await page.waitForSelector('p.error');
  assert.match(await page.textContent('p.error'), /no live document "no\/such\/document.txt"/);
  summary.flows.push('notice on an indexed document');
}

// 12. Rights signals: a rightsholder posts a robots.txt and sees what it
//     says and since when; an admin sees every filer's, checks a URL, and a
//     client has no such page; the filer withdraws it.
async function signalsFlow(page) {
  await signIn(page, cfg.keys.rightsholder);
  await page.goto(cfg.base + '/console/signals');
  await page.fill('#s-url', 'https://press.example/robots.txt');
  await page.fill('#s-observed', '2026-03-01T00:00:00Z');
  await page.fill('#s-body', 'User-agent: GPTBot\nDisallow: /\n');
  await page.click('#post-signal');
  await page.waitForSelector('p.ok');
  assert.match(await page.textContent('p.ok'), /Signal sig-[0-9a-f]{16} from https:\/\/press.example\/robots.txt is in force since \d{4}-/);
  const row = await page.textContent('#signals tbody tr');
  assert.match(row, /tdm_opt_out = true by robots.txt of press.example, 2026-03-01/);
  assert.match(row, /active/);
  await page.fill('#s-url', 'ftp://press.example/robots.txt');
  await page.click('#post-signal');
  await page.waitForSelector('p.error');
  assert.match(await page.textContent('p.error'), /http/);
  assert.equal(await page.inputValue('#s-url'), 'ftp://press.example/robots.txt', 'the form keeps what was typed');
  await shot(page, '16-rights-signals');
  await accessible(page, 'signals');
  await signOut(page);

  await signIn(page, cfg.keys.admin);
  await page.goto(cfg.base + '/console/signals?check=' + encodeURIComponent('https://press.example/essays/one'));
  assert.match(await page.textContent('#signals'), /console-rights/, 'an admin sees every filer');
  assert.match(await page.textContent('#check-result'), /tdm_opt_out = true by robots.txt of press.example/);
  await shot(page, '17-rights-signals-admin-check');
  await accessible(page, 'signals-admin');
  await signOut(page);

  await signIn(page, cfg.keys.client);
  const refused = await page.goto(cfg.base + '/console/signals');
  assert.equal(refused.status(), 403, 'a client has no signals page, as the API has no signals for it');
  assert.equal(await page.locator('a[href="/console/signals"]').count(), 0, 'nor a link to it');
  await signOut(page);

  await signIn(page, cfg.keys.rightsholder);
  await page.goto(cfg.base + '/console/signals');
  await page.click('#signals button[type=submit]');
  await page.waitForSelector('p.ok');
  assert.match(await page.textContent('p.ok'), /Withdrew signal sig-/);
  assert.match(await page.textContent('#signals tbody tr'), /withdrawn/);
  await signOut(page);
  summary.flows.push('rights signals');
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
  await documentTargetFlow(page);
  await signOut(page);
  await targetSearchFlow(page);
  await signalsFlow(page);
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
