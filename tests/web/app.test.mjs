// app.test.mjs: vigil's web app end to end in Debian's Chromium (playwright-core),
// run by tests/web/test_browser.sh under CTest. Every page is checked by axe-core
// (WCAG 2.0-2.2 A and AA: zero violations) and photographed into
// <build>/web-screenshots/.
//
// Paths: the nurse, keyboard only (sign in, the ward, a patient, acknowledge an alert,
// a form's error summary, a concern holding a stored XSS payload shown as text,
// record a set with NEWS2 worked out as it is typed and checked against the server's,
// a Martha's Rule call, the daily answer, the bedside card (its QR code decoded by zbarimg
// to the family page's address with the code), sign out, a session that ends
// returning to the same page after sign-in); the family page on a phone, keyboard only and
// without an account (a request for review reaching the store as a call from the family); a new alert reaching an open ward page (the time
// from the HL7 ACK is printed, not asserted); the doctor (Scale 2); outreach (open
// alerts, the Martha's Rule review on the patient page and, for the family's call, in the
// log); the safety officer (the log: each call's review status, time to review, reviewer); the handover
// sheet; the administrator (the list of users with role, wards, status and last sign-in;
// add a user, disable and enable from the list, keyboard only). No page may throw, and no
// Content-Security-Policy refusal may happen.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Server, Checks, browser, axe, shot, adt, oru, PASSWORD, SHOTS, BIN } from './harness.mjs';

const C = new Checks();
const WARD = 'WARD7B';
const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
const figures = {};

async function tabTo(page, selector, max = 250) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => !!document.activeElement && document.activeElement.matches(s), selector)) return;
  }
  throw new Error('not reachable with the Tab key: ' + selector);
}

async function typeInto(page, selector, text) {
  await tabTo(page, selector);
  await page.keyboard.type(text);
}

function watch(page, name, problems) {
  page.on('pageerror', (e) => problems.push(name + ': page error: ' + e.message));
  page.on('console', (m) => {
    const t = m.text();
    if (m.type() === 'error' && !/status of 40[134]/.test(t)) problems.push(name + ': console: ' + t);
    if (/Content Security Policy|Refused to/.test(t)) problems.push(name + ': CSP: ' + t);
  });
}

async function checkPage(page, name) {
  await shot(page, name);
  const v = await axe(page);
  C.check(v.length === 0, name + ': axe WCAG 2.2 A/AA violations: ' + JSON.stringify(v));
}

async function signIn(page, s, user, path = '/') {
  await page.goto(s.url + path);
  await page.fill('#username', user);
  await page.fill('#password', PASSWORD);
  await page.click('#sign-in');
}

async function waitText(page, selector, text, timeout = 10000) {
  await page.waitForFunction(([sel, t]) => {
    const n = document.querySelector(sel);
    return !!n && n.textContent.includes(t);
  }, [selector, text], { timeout });
}

const s = await Server.start();
const b = await browser();
const problems = [];
try {
  await s.addUser('nurse1', 'nurse', [WARD], 'Nina Nurse');
  await s.addUser('doctor1', 'doctor', [WARD], 'Dan Doctor');
  await s.addUser('outreach1', 'outreach', ['*'], 'Olu Outreach');
  await s.addUser('safety1', 'safety-officer', ['*'], 'Sam Safety');
  const hour = 3600e3;
  const acks = await s.hl7(
    adt('A1', 'A01', '9990000018', WARD, 'BED01'), adt('A2', 'A01', '9990000026', WARD, 'BED02'),
    oru('O1', '9990000018', { rr: 20, spo2: 95, hr: 95 }, new Date(Date.now() - 2 * hour)),
    oru('O2', '9990000018', { rr: 26, spo2: 92, hr: 125, temp: 38.4 }, new Date(Date.now() - 60e3)),
    oru('O3', '9990000026', {}, new Date(Date.now() - 30e3)));
  C.check(acks.every((a) => a === 'AA'), 'HL7 accepted: ' + acks);
  const p1 = await s.patientId('9990000018');
  const p2 = await s.patientId('9990000026');

  // ---- the nurse, keyboard only
  const ctx = await b.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  watch(page, 'nurse', problems);
  await page.goto(s.url + '/');
  await checkPage(page, 'signin');
  await typeInto(page, '#username', 'nurse1');
  await typeInto(page, '#password', 'not-the-password');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.nhsuk-error-summary');
  C.check((await page.textContent('.nhsuk-error-summary')).includes('not recognised'), 'a wrong password: the error summary says so');
  await checkPage(page, 'signin-error');
  await page.fill('#password', '');
  await typeInto(page, '#password', PASSWORD);
  const t0 = Date.now();
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/ward/);
  await page.waitForSelector('#beds tr');
  figures.ward_page_ready_ms = Date.now() - t0;
  const order = await page.$$eval('#beds tr', (rows) => rows.map((r) => r.getAttribute('data-patient')));
  C.check(order[0] === p1 && order.includes(p2), 'ward list: the emergency bed first (' + order + ')');
  const wardText = await page.textContent('#beds');
  C.check(wardText.includes('High risk') && wardText.includes('Alert: Emergency') && wardText.includes('not acknowledged'),
    'ward list: NEWS2 band and the open alert in words');
  C.check(wardText.includes('Rising'), 'ward list: the NEWS2 trend');
  await checkPage(page, 'ward');

  await tabTo(page, `#beds a[href="/patient?id=${p1}"]`);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/patient/);
  await page.waitForSelector('#summary .nhsuk-summary-list__row');
  await page.waitForSelector('#history table, #history p');
  C.check(await page.isVisible('#mhra .nhsuk-warning-callout'), 'patient: MHRA pulse-oximetry caution where SpO2 is near a threshold');
  C.check((await page.textContent('#mhra')).includes('darker skin'), 'patient: the caution names darker skin');
  C.check(await page.isVisible('#chart svg'), 'patient: NEWS2 chart drawn');
  C.check((await page.textContent('#chart svg')).includes('21–24: score 2'), 'patient: chart bands named in text');
  // the chart's panels are the table's rows with a chart range, in its order (`vigil vitals`,
  // written into /js/vitals.js), and the consciousness row is the table's (issue 11)
  const table = JSON.parse(spawnSync(BIN, ['vitals'], { encoding: 'utf8' }).stdout);
  const axes = await page.$$eval('#chart svg text.axis-label', (ts) => ts.map((t) => t.textContent));
  const want = [...table.filter((v) => v.chart).map((v) => v.chart.label), table.find((v) => v.type === 'acvpu').form_label];
  C.check(want.length > 1 && want.every((l, i) => axes[i] === l), 'patient: the chart panels are the vital-sign table\'s, in its order: ' + axes.join(' | '));
  await checkPage(page, 'patient');

  // acknowledge the alert
  await tabTo(page, '#alerts input[value=attending]');
  await page.keyboard.press('Space');
  await tabTo(page, '#alerts form button[type=submit]');
  await page.keyboard.press('Enter');
  await waitText(page, '#alerts', 'Alert acknowledged');
  C.check(await s.query("SELECT count(*) FROM ack WHERE username='nurse1' AND action='attending'") === '1', 'alert acknowledged by nurse1 (stored)');

  // the NHS error summary
  await tabTo(page, '#concern button[type=submit]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#concern .nhsuk-error-summary');
  C.check(await page.evaluate(() => document.activeElement.classList.contains('nhsuk-error-summary')), 'error summary takes the focus');
  C.check(await page.isVisible('#concern .nhsuk-error-message'), 'field error message shown');
  await checkPage(page, 'patient-error');

  // stored XSS rendered as text
  await typeInto(page, '#concern textarea', XSS);
  await tabTo(page, '#concern button[type=submit]');
  await page.keyboard.press('Enter');
  await waitText(page, '#history', '<script>window.__xss=2</script>');
  C.check(await page.evaluate(() => window.__xss === undefined), 'stored XSS did not run');
  C.check(await page.$$eval('#history img, #history script', (n) => n.length) === 0, 'stored XSS made no element');
  C.check((await page.textContent('#history')).includes(XSS), 'stored XSS shown as its text');

  // the 5 s refresh replaces the escalation history, never leaves it standing empty
  // while it waits for the server (it did, for a request's length, every 5 s)
  await page.evaluate(() => {
    window.__historyEmpty = 0;
    const h = document.getElementById('history');
    new MutationObserver(() => { if (!h.firstChild) window.__historyEmpty++; }).observe(h, { childList: true });
  });
  await page.waitForTimeout(5600);
  C.check(await page.evaluate(() => window.__historyEmpty) === 0, 'the refresh never leaves the escalation history empty');

  // record a set, NEWS2 as it is typed
  await typeInto(page, '#record-set input[name=rr]', '23');
  await typeInto(page, '#record-set input[name=spo2]', '95');
  await tabTo(page, '#record-set input[name=o2][value=air]');
  await page.keyboard.press('Space');
  await typeInto(page, '#record-set input[name=sbp]', '105');
  await typeInto(page, '#record-set input[name=hr]', '112');
  await tabTo(page, '#record-set input[name=acvpu][value=A]');
  await page.keyboard.press('Space');
  await typeInto(page, '#record-set input[name=temp_c]', '38.6');
  const preview = await page.textContent('#news2-preview-total');
  await page.keyboard.press('Enter');
  await waitText(page, '#actions', 'Set recorded');
  const confirm = await page.textContent('#actions [role=status]');
  const server = /NEWS2 (\d+)/.exec(confirm);
  C.check(server && preview === 'NEWS2 ' + server[1], 'NEWS2 as typed (' + preview + ') equals the server\'s (' + confirm + ')');
  C.check(preview === 'NEWS2 7', 'NEWS2 of rr 23 (2), SpO2 95 (1) on air, SBP 105 (1), HR 112 (2), A, 38.6 (1) is 7 (' + preview + ')');

  // Martha's Rule call and the daily answer
  await tabTo(page, '#marthas input[name=caller][value=patient]');
  await page.keyboard.press('ArrowDown'); // family
  await typeInto(page, '#marthas input[name=channel]', 'phone');
  await typeInto(page, '#marthas textarea[name=mr_concern]', 'Mum is not herself today');
  await tabTo(page, '#marthas button[type=submit]');
  await page.keyboard.press('Enter');
  await waitText(page, '#actions', "Martha's Rule call recorded");
  C.check(await s.query("SELECT caller FROM marthas_call WHERE channel = 'phone'") === 'family', "Martha's Rule call stored as from the family");
  await tabTo(page, '#daily input[value=better]'); // a radio group is one stop: arrows choose
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  await waitText(page, '#actions', 'Answer recorded');
  await waitText(page, '#summary', 'worse');
  await checkPage(page, 'patient-after-actions');

  // the handover sheet
  await page.goto(s.url + '/handover?ward=' + WARD);
  await page.waitForSelector('#sheet section');
  C.check((await page.textContent('#sheet')).includes('Situation'), 'handover: SBAR');
  await checkPage(page, 'handover');

  // the bedside card, then the family page on a phone, keyboard only, no account
  await page.goto(s.url + '/card?id=' + p2);
  await page.waitForSelector('#card:not([hidden]) svg');
  const code = (await page.textContent('#code')).trim();
  C.check(/^[0-9A-Z]+-[0-9A-Z]+-[0-9A-Z]{8}$/.test(code), 'bedside card: a code (' + code + ') and its QR code');
  await checkPage(page, 'bedside-card');
  // the QR code as drawn, read back by a real decoder (zbar-tools' zbarimg, from scripts/setup.sh)
  const qrPng = join(SHOTS, 'bedside-card-qr.png');
  await (await page.$('#qr svg')).screenshot({ path: qrPng });
  const zbar = spawnSync('zbarimg', ['--raw', '-q', qrPng], { encoding: 'utf8' });
  C.check(!zbar.error, 'zbarimg runs (scripts/setup.sh installs zbar-tools): ' + (zbar.error ? zbar.error.message : 'ok'));
  const decoded = (zbar.stdout || '').trim();
  C.check(decoded === s.url + '/family?code=' + code,
    'bedside card: the QR code decodes to the family page with the code (' + JSON.stringify(decoded) + ')');
  const fctx = await b.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const fp = await fctx.newPage();
  watch(fp, 'family', problems);
  await fp.goto(s.url + '/family?code=' + encodeURIComponent(code));
  await checkPage(fp, 'family-phone');
  await tabTo(fp, '#concern button[type=submit]');
  await fp.keyboard.press('Enter');
  await fp.waitForSelector('#concern .nhsuk-error-summary');
  await checkPage(fp, 'family-phone-error');
  await tabTo(fp, '#who-patient');
  await fp.keyboard.press('ArrowDown'); // a relative or friend
  await typeInto(fp, '#what', 'Dad is very sleepy and not making sense');
  await tabTo(fp, '#concern button[type=submit]');
  await fp.keyboard.press('Enter');
  await waitText(fp, '#result', 'outreach team has been asked to come');
  C.check(!(await fp.textContent('body')).includes('9990000026'), 'the family page shows nothing about the patient');
  C.check(await s.query("SELECT caller || '|' || channel FROM marthas_call WHERE concern LIKE 'Dad%'") === 'family|bedside code',
    "the family's request stored as a Martha's Rule call from the family");
  await checkPage(fp, 'family-phone-sent');
  await fctx.close();

  // a new alert reaches the open ward page
  await page.goto(s.url + '/ward');
  await page.waitForSelector('#beds tr');
  await s.hl7(adt('A3', 'A01', '9990000034', WARD, 'BED03'));
  const a3 = await s.hl7(oru('O4', '9990000034', { rr: 30, spo2: 88, sbp: 85, hr: 135 }));
  const tAck = Date.now();
  const p3 = await s.patientId('9990000034');
  await page.waitForFunction((id) => {
    const row = document.querySelector(`#beds tr[data-patient="${id}"]`);
    return !!row && row.textContent.includes('not acknowledged');
  }, p3, { timeout: 10000, polling: 50 });
  figures.new_alert_visible_after_ack_ms = Date.now() - tAck;
  C.check(a3[0] === 'AA', 'the new set acknowledged');
  C.check((await page.textContent('#announce')).includes('New alert'), 'a new alert is announced to screen readers');

  // sign out; a session that ends comes back to the same page after sign-in
  await tabTo(page, '#sign-out');
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.pathname === '/');
  await page.goto(s.url + '/patient?id=' + p2);
  await page.waitForURL(/next=/);
  C.check(await page.isVisible('#ended'), 'signed out: sign-in says the session ended');
  await typeInto(page, '#username', 'nurse1');
  await typeInto(page, '#password', PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp('/patient\\?id=' + p2 + '$'));
  C.check(true, 'after sign-in, back on the page that was open');
  await ctx.close();

  // ---- the doctor
  const dctx = await b.newContext({ viewport: { width: 1280, height: 900 } });
  const dp = await dctx.newPage();
  watch(dp, 'doctor', problems);
  await signIn(dp, s, 'doctor1');
  await dp.waitForURL(/\/ward/);
  await dp.goto(s.url + '/patient?id=' + p2);
  await dp.waitForSelector('#scale2');
  await dp.fill('#scale2 textarea', 'COPD with known hypercapnic respiratory failure');
  await dp.click('#scale2 button[type=submit]');
  await waitText(dp, '#actions', 'Scale 2 decision recorded');
  await waitText(dp, '#summary', 'SpO2 Scale 2');
  await checkPage(dp, 'patient-doctor');
  await dctx.close();

  // ---- outreach: open alerts, the Martha's Rule review
  const octx = await b.newContext({ viewport: { width: 1280, height: 900 } });
  const op = await octx.newPage();
  watch(op, 'outreach', problems);
  await signIn(op, s, 'outreach1');
  await op.waitForURL(/\/alerts/);
  await op.waitForSelector('#list table');
  const alertsText = await op.textContent('#list');
  C.check(alertsText.includes("Martha's Rule call") && alertsText.includes('Not acknowledged'), 'outreach: open alerts with the calls');
  const firstAcked = await op.$$eval('#list tbody tr', (r) => r.map((x) => x.textContent.includes('Not acknowledged')));
  C.check(firstAcked[0] === true, 'outreach: unacknowledged alerts first');
  await checkPage(op, 'alerts');
  await op.goto(s.url + '/patient?id=' + p1);
  await op.waitForSelector('form[id^=review-]');
  C.check((await op.$$('form[id^=review-]')).length === 1, 'outreach: the review form for the call');
  await op.check('form[id^=review-] input[value=acute-deterioration]');
  await op.check('form[id^=review-] input[value=change-in-care]');
  await op.click('form[id^=review-] button[type=submit]');
  await waitText(op, '#alerts', 'Review recorded');
  C.check(await s.query("SELECT r.outcome FROM marthas_review r JOIN marthas_call c ON c.id = r.call_id WHERE c.channel = 'phone'") === 'change-in-care', "outreach: Martha's Rule review stored");
  // outreach: the Martha's Rule log, each call with its review status; the family's call reviewed there
  await op.goto(s.url + '/safety');
  await op.waitForSelector('#calls');
  const famCall = await s.query("SELECT id FROM marthas_call WHERE channel = 'bedside code'");
  const phoneCall = await s.query("SELECT id FROM marthas_call WHERE channel = 'phone'");
  const famRow = `#calls tr[data-call="${famCall}"]`;
  const famBefore = await op.textContent(famRow);
  C.check(famBefore.includes('Not reviewed') && /Waiting \d/.test(famBefore), "outreach log: the family's call not reviewed, waiting: " + famBefore);
  C.check((await op.textContent(`#calls tr[data-call="${phoneCall}"]`)).includes('Reviewed'), "outreach log: the phone call reviewed");
  await checkPage(op, 'marthas-log-outreach');
  await op.check('#reviews form input[value=communication-coordination]');
  await op.check('#reviews form input[value=no-change]');
  await op.click('#reviews form button[type=submit]');
  await waitText(op, '#reviews', 'Review recorded');
  await waitText(op, famRow, 'Reviewed');
  C.check(/\d+ min/.test(await op.textContent(famRow)) && (await op.textContent(famRow)).includes('outreach1'), "outreach log: the family's call reviewed, with its time to review and who");
  C.check(await s.query("SELECT r.outcome || '|' || r.responder FROM marthas_review r JOIN marthas_call c ON c.id = r.call_id WHERE c.channel = 'bedside code'") === 'no-change|outreach1', "outreach: the family's call review stored");
  await octx.close();

  // ---- the safety officer: the log
  const sctx = await b.newContext({ viewport: { width: 1280, height: 900 } });
  const sp = await sctx.newPage();
  watch(sp, 'safety', problems);
  await signIn(sp, s, 'safety1');
  await sp.waitForURL(/\/safety/);
  await sp.waitForSelector('#log table');
  C.check((await sp.textContent('#log')).includes('Mum is not herself today'), "safety: the Martha's Rule log shows the call");
  const famSafety = await sp.textContent(`#calls tr[data-call="${famCall}"]`);
  C.check(famSafety.includes('Reviewed') && /\d+ min/.test(famSafety) && famSafety.includes('outreach1'), "safety: each call's review status, time to review and reviewer: " + famSafety);
  C.check((await sp.$$('#reviews form')).length === 0, 'safety: the officer reads the log; no review forms');
  await checkPage(sp, 'safety');
  await sctx.close();

  // ---- the administrator
  const actx = await b.newContext({ viewport: { width: 1280, height: 900 } });
  const ap = await actx.newPage();
  watch(ap, 'admin', problems);
  await ap.goto(s.url + '/');
  await ap.fill('#username', 'admin');
  await ap.fill('#password', 'admin-password-1');
  await ap.click('#sign-in');
  await ap.waitForURL(/\/admin/);
  await ap.waitForSelector('#add-user');
  await ap.waitForSelector('#user-table tr[data-user=nurse1]');
  const n1 = await ap.textContent('#user-table tr[data-user=nurse1]');
  C.check(n1.includes('Nurse') && n1.includes(WARD) && n1.includes('Enabled') && !n1.includes('Never'),
    'admin: the user list shows nurse1 with role, ward, enabled and a last sign-in: ' + n1);
  C.check(!(await ap.textContent('#users')).includes('argon2'), 'admin: no password hash on the page');
  await checkPage(ap, 'admin');
  await ap.fill('#add-user input[name=username]', 'nurse2');
  await ap.fill('#add-user input[name=display_name]', 'Nadia Nurse');
  await ap.check('#add-user input[value=nurse]');
  await ap.fill('#add-user input[name=wards]', WARD);
  await ap.fill('#add-user input[name=password]', 'a-long-password-2');
  await ap.click('#add-user button[type=submit]');
  await waitText(ap, '#done', 'User nurse2 added');
  await ap.fill('#disable-user input[name=leaver]', 'nurse2');
  await ap.click('#disable-user button[type=submit]');
  await waitText(ap, '#done', 'User disabled');
  C.check(await s.query("SELECT disabled_ms IS NOT NULL FROM app_user WHERE username='nurse2'") === '1', 'admin: nurse2 added and disabled');
  await waitText(ap, '#user-table tr[data-user=nurse2]', 'Disabled');
  C.check((await ap.textContent('#user-table tr[data-user=nurse2]')).includes('Never'), 'admin: nurse2 never signed in');
  // enable and disable again from the list, keyboard only
  await tabTo(ap, '#user-table button[data-user=nurse2]');
  await ap.keyboard.press('Enter');
  await waitText(ap, '#done', 'User nurse2 enabled');
  await waitText(ap, '#user-table tr[data-user=nurse2]', 'Enabled');
  C.check(await s.query("SELECT disabled_ms IS NULL FROM app_user WHERE username='nurse2'") === '1', 'admin: nurse2 enabled from the list');
  await ap.click('#user-table button[data-user=nurse2]');
  await waitText(ap, '#done', 'User nurse2 disabled');
  await waitText(ap, '#user-table tr[data-user=nurse2]', 'Disabled');
  C.check(await s.query("SELECT disabled_ms IS NOT NULL FROM app_user WHERE username='nurse2'") === '1', 'admin: nurse2 disabled from the list');
  C.check((await ap.textContent('#user-table tr[data-user=admin]')).includes('This is you'), 'admin: no button to disable oneself');
  await checkPage(ap, 'admin-users');
  await actx.close();
} catch (e) {
  C.check(false, 'the run stopped: ' + (e && e.stack ? e.stack : e));
} finally {
  await b.close();
  await s.stop();
}
C.check(problems.length === 0, 'no page error, console error or CSP refusal: ' + JSON.stringify(problems));
console.log('figures: ' + JSON.stringify(figures));
C.done();
