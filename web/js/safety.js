// safety.js: the Martha's Rule log for a month, read from the monthly CSV export
// the API gives (of the user's wards), with the CSV to download: each call with its
// review status in words, the time it took to review (or how long it has waited),
// who reviewed it and the outcome. The patient safety officer reads it; doctors and
// outreach also record the review of each call still waiting, here. For the safety
// officer, the live model and feed monitoring (GET /api/monitor, ward-scoped by the
// server; docs/server.md "Monitoring"): alarms in words, figures per ward and age
// band, feed health per ward. Refreshed every minute.
import { page, api, el, clear, clock, age, showErrors, SessionEnded } from '/js/app.js';
import { marthasReviewForm, confirmPanel } from '/js/forms.js';
import { tag } from '/js/views.js';
import { VITALS } from '/js/vitals.js';

let me = null;

/* RFC 4180 CSV: quoted fields, doubled quotes, CRLF rows. */
function parseCsv(text) {
  const rows = [];
  let row = [], f = '', q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { f += '"'; i++; } else if (c === '"') q = false; else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(f); f = ''; } else if (c === '\n') { row.push(f.replace(/\r$/, '')); rows.push(row); row = []; f = ''; } else f += c;
  }
  if (f !== '' || row.length) { row.push(f); rows.push(row); }
  return rows;
}

function range(month) {
  const [y, m] = month.split('-').map(Number);
  return [new Date(Date.UTC(y, m - 1, 1)).toISOString(), new Date(Date.UTC(y, m, 1) - 1).toISOString()];
}

async function show(month) {
  const [from, to] = range(month);
  const url = '/api/marthas-rule/export?from=' + encodeURIComponent(from) + '&to=' + encodeURIComponent(to);
  document.getElementById('download').setAttribute('href', url);
  const r = await fetch(url, { credentials: 'same-origin' });
  const box = clear(document.getElementById('log'));
  const reviews = clear(document.getElementById('reviews'));
  if (!r.ok) {
    clear(document.getElementById('status')).append('Could not load the log: ' + r.status);
    return;
  }
  const rows = parseCsv(await r.text());
  const head = rows.shift() || [];
  const col = (name) => head.indexOf(name);
  clear(document.getElementById('status')).append(rows.length + " Martha's Rule call" + (rows.length === 1 ? '' : 's') + ' in ' + month);
  if (!rows.length) return;
  const reviewed = (x) => !!x[col('reviewed_at')];
  const status = (x) => (reviewed(x) ? tag('Reviewed', 'nhsuk-tag--green') : tag('Not reviewed', 'nhsuk-tag--red'));
  const timeTo = (x) => (reviewed(x) ? x[col('minutes_to_review')] + ' min' : 'Waiting ' + age(x[col('called_at')]));
  box.append(el('table', { class: 'nhsuk-table', id: 'calls' },
    el('caption', { class: 'nhsuk-table__caption nhsuk-u-visually-hidden' }, "Martha's Rule calls"),
    el('thead', {}, el('tr', {}, ['Called', 'Ward', 'Caller', 'Concern', 'Review', 'Time to review', 'Reviewed by', 'Outcome'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows.map((x) => el('tr', { 'data-call': x[col('call_id')] }, el('td', {}, clock(x[col('called_at')])), el('td', {}, x[col('ward')]),
      el('td', {}, x[col('caller')] + (x[col('caller_name')] ? ' (' + x[col('caller_name')] + ')' : '')), el('td', {}, x[col('concern')]),
      el('td', {}, status(x)), el('td', {}, timeTo(x)),
      el('td', {}, x[col('responder')] || 'Not reviewed yet'), el('td', {}, x[col('outcome')]))))));
  const waiting = rows.filter((x) => !reviewed(x));
  if (!['doctor', 'outreach'].includes(me.role) || !waiting.length) return;
  reviews.append(el('h2', { class: 'nhsuk-heading-m' }, 'Calls waiting for review'));
  for (const x of waiting) {
    const id = x[col('call_id')];
    reviews.append(el('section', { class: 'nhsuk-u-margin-bottom-6', id: 'call-' + id },
      el('p', { class: 'nhsuk-body' }, 'Called ' + clock(x[col('called_at')]) + ' on ' + x[col('ward')] + ' by ' + x[col('caller')] + ': ' + x[col('concern')]),
      marthasReviewForm('review-call-' + id, id, me.username, async () => {
        await show(month);
        confirmPanel(document.getElementById('reviews'), 'Review recorded');
      }, 'Record the review of this call', 'h3')));
  }
}

// a monitoring input is named by its vital sign's store column: its words from the table
const INPUT_WORDS = Object.fromEntries(VITALS.map((v) => [v.column, v.label]));

function groupWords(g) {
  if (g === 'all') return 'All wards';
  if (g.startsWith('ward:')) return 'Ward ' + g.slice(5);
  const age = { 'age:<65': 'Age under 65', 'age:65-79': 'Age 65 to 79', 'age:80+': 'Age 80 and over' };
  return age[g] || g;
}

const pct = (x) => (x === null || x === undefined ? 'not known' : (100 * x).toFixed(1) + '%');
const num = (x, d = 2) => (x === null || x === undefined ? 'not known' : Number(x).toFixed(d));

/* One alarm in words. */
function alarmWords(a) {
  const where = groupWords(a.group);
  if (a.check.startsWith('input:')) {
    const name = a.check.slice(6);
    return where + ': ' + (INPUT_WORDS[name] || name) + ' outside the training range in ' + pct(a.value) +
      ' of admissions in the last 24 hours (limit ' + pct(a.limit) + '). A unit or device change?';
  }
  if (a.check === 'alert-rate') return where + ': AI alerts on ' + pct(a.value) + ' of admission-days (limit ' + pct(a.limit) + ').';
  if (a.check === 'alert-rate-low') return where + ': the AI has gone quiet: it alerted on ' + pct(a.value) + ' of admission-days over the window, below its lower limit of ' + pct(a.limit) + '. A model or feed that alerts less than it should can falsely reassure: check the feed and the model. NEWS2 is unaffected.';
  if (a.check === 'calibration') return where + ': observed to expected events ' + num(a.value) + ' over the window: the model is miscalibrated.';
  if (a.check === 'feed-gap') return where + ': no observations for ' + Math.round(a.value) + ' minutes (usually within ' + Math.round(a.limit) + '). Is the feed down?';
  if (a.check === 'feed-late') return where + ': ' + pct(a.value) + ' of sets arrived more than an hour late.';
  if (a.check === 'feed-refused') return 'HL7 messages refused: ' + pct(a.value) + ' since the last check.';
  return where + ': ' + a.check;
}

function groupRow(g) {
  const alarmed = g.inputs.filter((i) => i.alarm).map((i) => INPUT_WORDS[i.input] || i.input);
  return el('tr', {}, el('th', { scope: 'row' }, groupWords(g.group)),
    el('td', {}, String(g.alerts.sets)),
    el('td', {}, pct(g.alerts.share) + (g.alerts.alarm ? ' (alarm)' : '') +
      (g.alerts.window && g.alerts.window.low_alarm ? ' (gone quiet: ' + pct(g.alerts.window.share) + ' over the window)' : '')),
    el('td', {}, g.calibration.has_window && g.calibration.labelled > 0 ? num(g.calibration.oe) + (g.calibration.alarm ? ' (alarm)' : '') : 'not enough outcomes yet'),
    el('td', {}, g.auroc_window === null ? 'not enough outcomes yet' : num(g.auroc_window, 3)),
    el('td', {}, alarmed.length ? 'Out of range: ' + alarmed.join(', ') : 'None'));
}

function feedRow(f) {
  return el('tr', {}, el('th', { scope: 'row' }, 'Ward ' + f.ward),
    el('td', {}, f.silent_min + ' minutes'),
    el('td', {}, f.usual_gap_p95_min === null ? 'not known' : Math.round(f.usual_gap_p95_min) + ' minutes'),
    el('td', {}, f.late_24h + ' of ' + f.sets_24h),
    el('td', {}, f.gap_alarm || f.late_alarm
      ? el('strong', { class: 'nhsuk-tag nhsuk-tag--red' }, f.gap_alarm ? 'Silent' : 'Late sets')
      : el('strong', { class: 'nhsuk-tag nhsuk-tag--green' }, 'OK')));
}

async function showMonitor() {
  const status = clear(document.getElementById('monitor-status'));
  const alarms = clear(document.getElementById('monitor-alarms'));
  const groups = clear(document.getElementById('monitor-groups'));
  const feed = clear(document.getElementById('monitor-feed'));
  const r = await api('GET', '/api/monitor');
  if (r.status === 404) { status.append('Monitoring is off: the server runs without an AI model.'); return; }
  if (!r.ok) { status.append('Could not load the monitoring: ' + r.status); return; }
  const m = r.body;
  if (m.state === 'starting') { status.append('Monitoring is starting.'); return; }
  status.append(m.state === 'monitoring'
    ? 'Computed at ' + clock(m.computed) + ' from ' + m.sets + ' observation sets over ' + m.days + ' days (the first ' + m.baseline_days + ' set the reference).'
    : 'Collecting the reference: ' + m.days + ' of ' + (m.baseline_days + 1) + ' days needed. Feed health is checked already.');
  if (m.alarms.length) {
    alarms.append(el('div', { class: 'nhsuk-warning-callout' },
      el('h3', { class: 'nhsuk-warning-callout__label' }, el('span', { role: 'text' }, el('span', { class: 'nhsuk-u-visually-hidden' }, 'Important: '), m.alarms.length + ' monitoring alarm' + (m.alarms.length === 1 ? '' : 's'))),
      el('ul', { class: 'nhsuk-list nhsuk-list--bullet' }, m.alarms.map((a) => el('li', { 'data-check': a.check, 'data-group': a.group }, alarmWords(a))))));
  } else {
    alarms.append(el('p', { class: 'nhsuk-body' }, 'No monitoring alarms.'));
  }
  if (m.groups.length) {
    groups.append(el('table', { class: 'nhsuk-table' },
      el('caption', { class: 'nhsuk-table__caption' }, 'The live model over the last 24 hours, by ward and age band'),
      el('thead', {}, el('tr', {}, ['Group', 'Sets scored', 'Admission-days with an AI alert', 'Observed to expected (' + m.window_days + ' days)', 'AUROC (' + m.window_days + ' days)', 'Inputs'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, m.groups.map(groupRow))));
  }
  if (m.feed.length) {
    feed.append(el('table', { class: 'nhsuk-table' },
      el('caption', { class: 'nhsuk-table__caption' }, 'Feed health by ward'),
      el('thead', {}, el('tr', {}, ['Ward', 'Since the last set', 'Usual longest gap', 'Late sets (24 hours)', 'Status'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, m.feed.map(feedRow))));
  }
}

async function main() {
  me = await page(['safety-officer', 'doctor', 'outreach']);
  const form = document.getElementById('month-form');
  const now = new Date();
  form.month.value = now.getUTCFullYear() + '-' + String(now.getUTCMonth() + 1).padStart(2, '0');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const m = form.month.value.trim();
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(m)) {
      showErrors(form, [{ field: 'month', text: 'Enter the month as year and month, for example 2026-12' }]);
      return;
    }
    showErrors(form, []);
    await show(m);
  });
  await show(form.month.value);
  if (me.role !== 'safety-officer') {
    // doctors and outreach come for the log and its reviews; monitoring is the officer's
    for (const id of ['monitor-heading', 'monitor-status']) document.getElementById(id).hidden = true;
    return;
  }
  await showMonitor();
  setInterval(() => { showMonitor().catch(() => {}); }, 60000);
}
main().catch((e) => { if (!(e instanceof SessionEnded)) throw e; });
