// monitor.test.mjs: the live monitoring in the safety view (issue 14 item 4,
// docs/server.md "Monitoring"). `vigil serve --model` with a 1 s monitor and 2
// baseline days; two wards of 12 patients backfilled over 4.5 days over HL7, ward
// W2's heart rate doubled in the last 24 h and ward W1's feed stopped 6 h ago. The
// safety officer's page shows both alarms in words, the figures per ward and age
// band and the feed health per ward; a safety officer of W1 sees W1 only (scoped by
// the server). axe-core: no WCAG 2.2 A/AA violation; a screenshot.
import { Server, Checks, browser, axe, shot, adt, oru, PASSWORD, SRC } from './harness.mjs';
import { join } from 'node:path';

const C = new Checks();
const MODEL = join(SRC, 'models', 'vigil-sepsis-2019A.json');
const s = await Server.start(['--model', MODEL, '--monitor-period', '1', '--monitor-baseline-days', '2']);
const b = await browser();
const HOUR = 3600e3;
const ts = (t) => new Date(t).toISOString().replace(/[-:T]/g, '').slice(0, 14) + '+0000';

/* A valid NHS number (modulus 11) in the 999 test range. */
function nhs(i) {
  for (;;) {
    const body = '999' + String(i).padStart(6, '0');
    let total = 0;
    for (let k = 0; k < 9; k++) total += Number(body[k]) * (10 - k);
    const check = (11 - (total % 11)) % 11;
    if (check !== 10) return body + check;
    i += 1000;
  }
}

async function signIn(page, user) {
  await page.goto(s.url + '/');
  await page.fill('#username', user);
  await page.fill('#password', PASSWORD);
  await page.click('#sign-in');
  await page.waitForURL(/\/safety/);
}

try {
  const now = Date.now();
  const start = now - 4.5 * 24 * HOUR;
  const msgs = [];
  let n = 0;
  for (const [w, ward] of ['W1', 'W2'].entries()) {
    for (let k = 0; k < 12; k++) {
      const id = nhs(100 * w + k + 1);
      msgs.push(adt('A' + n, 'A01', id, ward, 'BED' + k).replaceAll(/\|\d{14}\+0000/g, '|' + ts(start - HOUR)));
      const end = now - (ward === 'W1' ? 6 * HOUR : 600e3);
      for (let t = start + k * 420e3, j = 0; t < end; t += 4 * HOUR, j++) {
        let hr = 70 + ((k * 3 + j) % 25);
        if (ward === 'W2' && t >= now - 24 * HOUR + 300e3) hr *= 2;
        msgs.push(oru('O' + n + '-' + j, id, { hr }, new Date(t)));
      }
      n++;
    }
  }
  const acks = await s.hl7(...msgs);
  C.check(acks.every((a) => a === 'AA'), acks.length + ' messages acknowledged AA');
  await s.addUser('safety1', 'safety-officer', ['*'], 'Sam Safety');
  await s.addUser('safety2', 'safety-officer', ['W1'], 'Wendy Ward');
  // wait until the monitor has read every set (its own thread, every second)
  const sets = msgs.length - 24;
  let rep = {};
  for (let i = 0; i < 120 && !(rep.state === 'monitoring' && rep.sets === sets); i++) {
    rep = (await s.req('GET', '/api/monitor', undefined, s.tokens.safety1)).body || {};
    await new Promise((r) => setTimeout(r, 500));
  }
  C.check(rep.state === 'monitoring' && rep.sets === sets, 'the monitor read all ' + sets + ' sets: ' + rep.state + ' ' + rep.sets);

  const ctx = await b.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await signIn(page, 'safety1');
  await page.waitForSelector('#monitor-alarms li');
  const hr = await page.textContent('[data-check="input:hr_bpm"][data-group="ward:W2"]').catch(() => '');
  // the input named in the words of the vital-sign table's row with its column (src/core/vitals.c: 'pulse')
  C.check(/Ward W2: pulse outside the training range/.test(hr), 'the heart-rate alarm on W2 in words: ' + hr);
  C.check(await page.$('[data-check="input:hr_bpm"][data-group="ward:W1"]') === null, 'none on W1');
  const gap = await page.textContent('[data-check="feed-gap"][data-group="ward:W1"]').catch(() => '');
  C.check(/Ward W1: no observations for \d+ minutes/.test(gap), 'the silent feed of W1 in words: ' + gap);
  const groups = await page.textContent('#monitor-groups');
  C.check(/All wards/.test(groups) && /Ward W1/.test(groups) && /Ward W2/.test(groups) && /Age 65 to 79/.test(groups),
    'figures for all wards, each ward and an age band');
  const feed = await page.textContent('#monitor-feed');
  C.check(/Silent/.test(feed) && /Ward W2/.test(feed), 'feed health per ward: ' + feed.replace(/\s+/g, ' ').slice(0, 200));
  await shot(page, 'safety-monitoring');
  const v = await axe(page);
  C.check(v.length === 0, 'axe WCAG 2.2 A/AA violations: ' + JSON.stringify(v));
  await ctx.close();

  const ctx2 = await b.newContext({ viewport: { width: 1280, height: 900 } });
  const p2 = await ctx2.newPage();
  await signIn(p2, 'safety2');
  await p2.waitForSelector('#monitor-alarms li');
  const text = await p2.textContent('main');
  C.check(!/Ward W2/.test(text) && !/All wards/.test(text) && /Ward W1/.test(text), 'a safety officer of W1 sees W1 only');
  await ctx2.close();
} finally {
  await b.close();
  await s.stop();
}
C.done();
