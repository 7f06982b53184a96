// partial.test.mjs: the ward list in the browser when the latest set is partial
// (docs/escalation.md, "Observation sets assembled, not overwritten"; issue 11):
// a complete set in the emergency band, then a pulse alone 39 minutes later. The
// ward list must still show the complete set's NEWS2 and the emergency level, say
// the latest set was partial and what it had, and never call the trend "Steady" or
// "Falling" from the partial set's lower bound. axe-core on the page; a screenshot.
import { Server, Checks, browser, axe, shot, adt, oru, PASSWORD } from './harness.mjs';

const C = new Checks();
const s = await Server.start();
const b = await browser();
try {
  await s.addUser('nurse1', 'nurse', ['WARD7B'], 'Nina Nurse');
  const acks = await s.hl7(adt('A1', 'A01', '9990000018', 'WARD7B', 'BED01'),
    // RR 30 (3), SpO2 88 (3), SBP 85 (3), HR 140 (3), A, 36.8, air: NEWS2 12
    oru('O1', '9990000018', { rr: 30, spo2: 88, hr: 140, sbp: 85 }, new Date(Date.now() - 40 * 60e3)),
    oru('O2', '9990000018', { hr: 72, rr: null, spo2: null, sbp: null, temp: null, acvpu: null, fio2: null },
      new Date(Date.now() - 60e3)));
  C.check(acks.every((a) => a === 'AA'), 'HL7 accepted: ' + acks);
  const page = await b.newPage();
  await page.goto(s.url + '/');
  await page.fill('#username', 'nurse1');
  await page.fill('#password', PASSWORD);
  await page.click('#sign-in');
  await page.waitForSelector('[data-news2-basis]', { timeout: 15000 });
  const row = await page.textContent('tr[data-patient]');
  C.check(/NEWS2 12/.test(row), 'the complete set\'s NEWS2 12 is shown: ' + row);
  C.check(/Emergency/.test(row), 'the level stays emergency: ' + row);
  C.check(!/NEWS2 at least 0/.test(row), 'never the partial set\'s lower bound: ' + row);
  const basis = await page.textContent('[data-news2-basis]');
  C.check(/Latest set partial/.test(basis) && /had only: pulse/.test(basis), 'the partial set is named: ' + basis);
  C.check(!/Steady|Falling/.test(row), 'no trend word from a lower bound: ' + row);
  await shot(page, 'ward-partial-set');
  const v = await axe(page);
  C.check(v.length === 0, 'axe WCAG 2.2 A/AA violations: ' + JSON.stringify(v));
} finally {
  await b.close();
  await s.stop();
}
C.done();
