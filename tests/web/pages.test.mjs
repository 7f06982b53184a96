// pages.test.mjs: the web app as a paging channel (issue 16, docs/server.md "Paging"):
// with paging on and nurse1 holding step 0 of WARD7B's emergency rota, an emergency set
// over HL7 reaches nurse1's open ward page as a page (level, ward and bed in words, a
// link to the patient) within 10 s; "Mark as read" records the read; acknowledging the
// alert removes the page. axe-core on the page with the page showing; a screenshot.
import { Server, Checks, browser, axe, shot, adt, oru, PASSWORD } from './harness.mjs';

const C = new Checks();
const s = await Server.start(['--paging']);
const b = await browser();
try {
  await s.addUser('nurse1', 'nurse', ['WARD7B'], 'Nina Nurse');
  const iso = (t) => new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
  const sh = await s.req('POST', '/api/rota', { ward: 'WARD7B', level: 'emergency', step: 0, username: 'nurse1',
    from: iso(Date.now() - 60e3), to: iso(Date.now() + 8 * 3600e3) }, s.tokens.admin);
  C.check(sh.status === 201, 'rota shift recorded: ' + sh.status + ' ' + JSON.stringify(sh.body));
  C.check((await s.hl7(adt('A1', 'A01', '9990000018', 'WARD7B', 'BED01'))).every((a) => a === 'AA'), 'admitted');
  const page = await b.newPage();
  await page.goto(s.url + '/');
  await page.fill('#username', 'nurse1');
  await page.fill('#password', PASSWORD);
  await page.click('#sign-in');
  await page.waitForSelector('#beds');
  // RR 30, SpO2 88, SBP 85, HR 140: NEWS2 12, emergency
  const acks = await s.hl7(oru('O1', '9990000018', { rr: 30, spo2: 88, hr: 140, sbp: 85 }));
  C.check(acks.every((a) => a === 'AA'), 'emergency set acknowledged');
  const t0 = Date.now();
  await page.waitForSelector('[data-page]', { timeout: 10000 });
  console.log('page shown ' + (Date.now() - t0) + ' ms after the ACK');
  const text = await page.textContent('[data-page]');
  C.check(/Page for you: Emergency/.test(text) && /ward WARD7B, bed/.test(text), 'the page in words: ' + text);
  C.check(await page.isVisible('[data-page] a[href^="/patient?id="]'), 'a link to the patient');
  await shot(page, 'ward-with-page');
  const v = await axe(page);
  C.check(v.length === 0, 'axe WCAG 2.2 A/AA violations: ' + JSON.stringify(v));
  await page.click('[data-page-read]');
  const mine = async () => (await s.req('GET', '/api/pages', undefined, s.tokens.nurse1)).body.pages;
  let pages = [];
  for (let i = 0; i < 50; i++) {
    pages = await mine();
    if (pages.some((p) => p.read_at)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  C.check(pages.length >= 1 && pages[0].read_at, 'Mark as read records the read: ' + JSON.stringify(pages[0]));
  const ack = await s.req('POST', '/api/alerts/' + pages[0].alert_id + '/ack', { action: 'attending', reason: 'on my way' }, s.tokens.nurse1);
  C.check(ack.status === 200 || ack.status === 201, 'alert acknowledged: ' + ack.status + ' ' + JSON.stringify(ack.body));
  await page.waitForSelector('[data-page]', { state: 'detached', timeout: 10000 })
    .then(() => C.check(true, ''), () => C.check(false, 'the page leaves the screen once its alert is acknowledged'));
} finally {
  await b.close();
  await s.stop();
}
C.done();
