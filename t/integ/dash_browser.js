// SPDX-License-Identifier: MIT
// t/integ/dash_browser.js: drives Debian's chromium (headless, through
// puppeteer-core) against a running relaykit-eventd dashboard.  Prints
// one "key value" line per finding; the shell test turns them into TAP.
//
//   node dash_browser.js relay NPM_MODULES URL TOKEN SMTP_PORT ARTIFACT_DIR
//     (t/integ/dashboard.t) no credentials -> no page; the token -> the
//     page; a message sent through Postfix (swaks) -> its row, timed;
//     filters hide and show it; a screenshot.
//   node dash_browser.js load NPM_MODULES URL USER:PASSWORD REDIS_PORT
//                        PREFIX INJECTOR ARTIFACT_DIR LOAD_SECONDS
//     (t/integ/dashboard_load.t) basic authentication; LOAD_SECONDS of
//     500 events/s from INJECTOR while the JS heap (after a forced GC),
//     the DOM and the page's responsiveness are sampled; a screenshot.
'use strict';

const path = require('path');
const { execFileSync, spawn } = require('child_process');

const mode = process.argv[2];
const [modules, url] = process.argv.slice(3, 5);
const [token, smtpPort, relayArt] = process.argv.slice(5);
const [login, redisPort, prefix, injector, artDir, loadSecs] =
  process.argv.slice(5);
const puppeteer = require(path.join(modules, 'puppeteer-core'));

const T0 = Date.now();
function out(k, v) { console.log(k + ' ' + v); }
const mark = (what) => out('at_' + what, (Date.now() - T0) + 'ms');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function send(to, clientId) {
  const o = execFileSync('swaks', ['--server', '127.0.0.1:' + smtpPort,
    '--from', 'shop@example.com', '--to', to, '--h-Subject', 'dash test',
    '--add-header', 'X-Message-ID: ' + clientId], { encoding: 'utf8' });
  const m = o.match(/250 2\.0\.0 Ok: queued as ([0-9A-Za-z]+)/);
  return m ? m[1] : '';
}

// ms until the row of qid with that status exists, or -1
async function rowTime(page, qid, ev, t0, timeout) {
  try {
    await page.waitForFunction((q, e) => !!document.querySelector(
      'tr[data-qid="' + q + '"][data-event="' + e + '"]'),
    { timeout, polling: 50 }, qid, ev);
    return Date.now() - t0;
  } catch (e) {
    return -1;
  }
}

// whether qid's row becomes (shown true) or stays (false) visible: waits
// up to 3 s for it, so a slow machine costs time, not a wrong answer
async function settles(page, qid, shown) {
  try {
    await page.waitForFunction((q, want) => want === !!document.querySelector(
      'tr[data-qid="' + q + '"]'), { timeout: 3000, polling: 50 }, qid, shown);
    return true;
  } catch (e) {
    return false;
  }
}

async function typeFilter(page, sel, text) {
  await page.click(sel, { clickCount: 3 });
  await page.keyboard.press('Backspace');
  if (text) await page.type(sel, text);
}

async function heap(page, cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  const m = await page.metrics();
  return { heap: m.JSHeapUsedSize, nodes: m.Nodes };
}

async function auth(browser) {
  const page = await browser.newPage();
  const r = await page.goto(url + '/', { waitUntil: 'load' });
  out('noauth_status', r.status());
  out('noauth_table', await page.evaluate(
    () => !!document.getElementById('events')));
  const ev = await page.evaluate(async () => (await fetch('/events')).status);
  out('noauth_events', ev);
  await page.close();
}

async function message(page) {
  const t0 = Date.now();
  const qid = send('someone@ok.test', 'order-dash-1');
  const tq = Date.now();
  out('qid', qid);
  out('swaks_ms', tq - t0);
  out('appear_ms', await rowTime(page, qid, 'queued', tq, 10000));
  out('delivered_ms', await rowTime(page, qid, 'delivered', tq, 10000));
  out('row_client_id', await page.evaluate((q) => {
    const r = document.querySelector('tr[data-qid="' + q + '"]');
    return r ? r.children[3].textContent : '';
  }, qid));
  const dq = send('defer-x@later.test', 'order-dash-2');
  out('defer_ms', await rowTime(page, dq, 'deferred', Date.now(), 10000));
  await page.waitForFunction(() => !!document.querySelector(
    '#top-body tr[data-domain="later.test"]'), { timeout: 5000 })
    .then(() => out('top_domain', 'later.test'), () => out('top_domain', ''));
  // the delay is read from Redis every 2 s and sent with the stats
  const delay = () => {
    const c = document.querySelector(
      '#top-body tr[data-domain="later.test"] td.delay');
    return c && c.textContent !== '\u2014' ? c.textContent : '';
  };
  await page.waitForFunction(delay, { timeout: 8000 }).catch(() => {});
  out('top_delay', await page.evaluate(delay));
  return qid;
}

async function filters(page, qid) {
  await typeFilter(page, '#f-from', 'nobody-else@');
  out('filter_from_hides', await settles(page, qid, false));
  await typeFilter(page, '#f-from', 'SHOP@');
  out('filter_from_shows', await settles(page, qid, true));
  await typeFilter(page, '#f-from', '');
  await typeFilter(page, '#f-domain', 'other.test');
  out('filter_domain_hides', await settles(page, qid, false));
  await typeFilter(page, '#f-domain', 'ok.test');
  out('filter_domain_shows', await settles(page, qid, true));
  await typeFilter(page, '#f-domain', '');
  await page.select('#f-event', 'bounced');
  out('filter_status_hides', await settles(page, qid, false));
  await sleep(600); // the feed reconnects with the server-side filter
  out('filter_server_hides', await settles(page, qid, false));
  await page.select('#f-event', '');
  out('filter_reset_shows', await settles(page, qid, true));
}

async function load(page, cdp) {
  const before = await page.evaluate(() => window.rkDash.received());
  const inj = spawn('/usr/bin/python3', [injector, redisPort, prefix, '500',
    loadSecs], { stdio: ['ignore', 'pipe', 'inherit'] });
  let injected = '';
  inj.stdout.on('data', (d) => { injected += d; });
  const ended = new Promise((r) => inj.on('close', r)); // before it ends
  const samples = [];
  let worst = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < loadSecs * 1000) {
    const s = Date.now();
    await page.evaluate(() => document.querySelectorAll('tr').length);
    worst = Math.max(worst, Date.now() - s);
    if (Date.now() - t0 >= (samples.length + 1) * 5000) {
      const h = await heap(page, cdp);
      samples.push(h);
      out('sample', (Date.now() - t0) + 'ms heap=' + h.heap + ' nodes=' +
        h.nodes);
    }
    await sleep(200);
  }
  await ended;
  await sleep(1500);
  const after = await page.evaluate(() => window.rkDash.received());
  out('injected', injected.trim() || 0);
  out('received', after - before);
  out('kept', await page.evaluate(() => window.rkDash.kept()));
  out('rows', await page.evaluate(
    () => document.querySelectorAll('#ev-body tr').length));
  out('worst_eval_ms', worst);
  out('heap_first', samples.length ? samples[1 < samples.length ? 1 : 0].heap : 0);
  out('heap_last', samples.length ? samples[samples.length - 1].heap : 0);
  out('heap_max', Math.max(...samples.map((x) => x.heap)));
  out('nodes_max', Math.max(...samples.map((x) => x.nodes)));
}

async function relay(browser) {
  await auth(browser);
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  const r = await page.goto(url + '/?token=' + encodeURIComponent(token),
    { waitUntil: 'load' });
  out('auth_status', r.status());
  out('auth_url', page.url());
  await page.waitForSelector('#conn.up', { timeout: 10000 })
    .then(() => out('connected', true), () => out('connected', false));
  mark('page');
  const qid = await message(page);
  mark('message');
  await filters(page, qid);
  mark('filters');
  await sleep(1000); // the reconnected feed's stats: rates and top drawn
  await page.screenshot({ path: path.join(relayArt, 'dashboard.png') });
}

async function loaded(browser) {
  const [user, password] = login.split(':');
  let page = await browser.newPage();
  // a 401 with a Basic challenge the browser cannot answer ends the
  // navigation with ERR_INVALID_AUTH_CREDENTIALS under puppeteer
  const r0 = await page.goto(url + '/', { waitUntil: 'load' })
    .catch((e) => (/ERR_INVALID_AUTH_CREDENTIALS/.test(String(e))
      ? { status: () => 401 } : Promise.reject(e)));
  out('nologin_status', r0.status());
  out('nologin_table', await page.evaluate(
    () => !!document.getElementById('events')));
  await page.close();
  page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  await page.authenticate({ username: user, password });
  const r = await page.goto(url + '/', { waitUntil: 'load' });
  out('login_status', r.status());
  await page.waitForSelector('#conn.up', { timeout: 10000 })
    .then(() => out('connected', true), () => out('connected', false));
  mark('page');
  const cdp = await page.createCDPSession();
  await load(page, cdp);
  mark('load');
  await page.screenshot({ path: path.join(artDir, 'dashboard-load.png') });
}

async function main() {
  // never hang the suite: the shell test has its own budget too
  setTimeout(() => { out('error', '"timed out"'); process.exit(1); },
    (mode === 'load' ? Number(loadSecs) + 40 : 60) * 1000).unref();
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--no-first-run', '--disable-extensions'],
  });
  mark('launched');
  try {
    await (mode === 'load' ? loaded(browser) : relay(browser));
    out('done', 1);
  } finally {
    await browser.close();
  }
}

main().catch((e) => { out('error', JSON.stringify(String(e))); process.exit(1); });
