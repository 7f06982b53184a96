// views.js: how a NEWS2 score, an AI risk, an escalation level and a bed's
// flags are shown, the same on every page. Colour is never the only signal:
// every tag carries its words.
import { el, age, clock } from '/js/app.js';
import { VITALS } from '/js/vitals.js';

const RISK = {
  low: ['Low', 'nhsuk-tag--green'],
  'low-medium': ['Low-medium', 'nhsuk-tag--yellow'],
  medium: ['Medium', 'nhsuk-tag--orange'],
  high: ['High', 'nhsuk-tag--red'],
};

export const LEVEL_RANK = { none: 0, ward: 1, 'urgent-ward': 2, urgent: 3, emergency: 4 };
const LEVEL = {
  none: ['No escalation', 'nhsuk-tag--grey'],
  ward: ['Nurse to assess', 'nhsuk-tag--blue'],
  'urgent-ward': ['Urgent ward review', 'nhsuk-tag--yellow'],
  urgent: ['Urgent review', 'nhsuk-tag--orange'],
  emergency: ['Emergency', 'nhsuk-tag--red'],
};

// each vital sign's words by its name and its JSON key (the table, /js/vitals.js)
export const PARAM_WORDS = Object.fromEntries(VITALS.flatMap((v) => [[v.name, v.label], [v.key, v.label]]));

export function tag(text, cls) {
  return el('strong', { class: 'nhsuk-tag ' + (cls || '') }, text);
}

/* NEWS2: the total with its band in words; an incomplete set says so, with what is missing. */
export function news2View(n) {
  if (!n) return el('span', {}, 'No observations yet');
  const [words, cls] = RISK[n.risk] || [n.risk, ''];
  const total = n.complete ? String(n.total) : 'at least ' + n.total;
  // an incomplete set's band is a lower bound too: never shown as plain "Low risk"
  const parts = [el('span', { class: 'nhsuk-u-font-weight-bold' }, 'NEWS2 ' + total), ' ',
    n.complete ? tag(words + ' risk', cls) : tag('At least ' + words.toLowerCase() + ' risk', 'nhsuk-tag--white')];
  if (n.single_param_3) parts.push(' ', tag('3 in one parameter', 'nhsuk-tag--red'));
  if (!n.complete) {
    const missing = (n.missing || []).map((m) => PARAM_WORDS[m] || m).join(', ');
    parts.push(el('div', { class: 'vigil-small' }, tag('Incomplete set', 'nhsuk-tag--white'),
      ' missing: ' + missing));
  }
  // a newer partial set never lowers what is shown (docs/escalation.md): say which set the
  // figure comes from and what the latest set carried
  const latest = n.latest_set;
  if (latest && n.basis && n.basis !== 'latest-set') {
    const from = n.basis === 'last-complete-set' ? 'From the last complete set' : 'From a partial set';
    const carried = (latest.carried || []).map((m) => PARAM_WORDS[m] || m).join(', ') || 'nothing';
    parts.push(el('div', { class: 'vigil-small', 'data-news2-basis': n.basis },
      tag('Latest set partial', 'nhsuk-tag--white'),
      ' ' + from + ' (' + clock(n.measured_at) + '); the latest set (' + clock(latest.measured_at) +
      ') had only: ' + carried + '.'));
  }
  if (n.spo2_scale === 2) parts.push(el('div', { class: 'vigil-small' }, 'SpO2 Scale 2'));
  return el('div', {}, parts);
}

/* The AI risk: "not enough data" where the model says so, never a low risk. */
export function aiView(ai, optedOut, scoring) {
  if (optedOut) return el('span', {}, tag('AI opted out', 'nhsuk-tag--grey'), ' NEWS2 only');
  if (scoring === 'news2-only') return el('span', {}, 'AI not in use');
  if (!ai) return el('span', {}, 'Not scored yet');
  if (ai.status === 'not-enough-data' || ai.probability === null) {
    return el('div', {}, tag('Not enough data to score', 'nhsuk-tag--white'),
      ai.reason ? el('div', { class: 'vigil-small' }, ai.reason.replace(/^not enough data to score: /, '')) : null);
  }
  const pct = Math.round(ai.probability * 1000) / 10;
  const parts = [el('span', { class: 'nhsuk-u-font-weight-bold' }, pct + '%'), ' risk of deterioration'];
  if (ai.low_confidence) parts.push(el('div', {}, tag('Low confidence', 'nhsuk-tag--white')));
  return el('div', {}, parts);
}

export function levelView(esc) {
  const [words, cls] = LEVEL[esc.level] || [esc.level, ''];
  return tag(words, cls);
}

export function obsView(obs, now) {
  const parts = [];
  if (obs.last_at) parts.push(el('div', {}, 'Last ' + clock(obs.last_at) + ' (' + age(obs.last_at, now) + ' ago)'));
  if (obs.overdue) parts.push(el('div', {}, tag('Overdue', 'nhsuk-tag--red'), ' due ' + clock(obs.due_at)));
  else if (obs.due_at) parts.push(el('div', {}, 'Due ' + clock(obs.due_at)));
  if (obs.stale) parts.push(el('div', {}, tag('Score stale', 'nhsuk-tag--orange')));
  return el('div', { class: 'vigil-small' }, parts);
}

export function alertsView(alerts, now) {
  if (!alerts || alerts.length === 0) return el('span', {}, 'None open');
  return el('ul', { class: 'nhsuk-list vigil-small' }, alerts.map((a) => el('li', {},
    tag(a.kind === 'marthas-rule' ? "Martha's Rule call" : 'Alert: ' + (LEVEL[a.level] || [a.level])[0],
      a.acknowledged ? 'nhsuk-tag--grey' : 'nhsuk-tag--red'),
    ' open ' + age(a.raised_at, now),
    a.acknowledged ? ' - ' + a.ack.action + ' by ' + a.ack.by : ' - not acknowledged')));
}

/* Staff concern, Martha's Rule, daily answer, opt-out, Scale 2, plan. */
export function flagsView(p) {
  const f = [];
  const reasons = (p.escalation && p.escalation.reasons) || [];
  const has = (code) => reasons.some((r) => r.code === code);
  if (has('staff-concern')) f.push(tag('Staff concern', 'nhsuk-tag--orange'));
  if (p.marthas_unreviewed > 0 || has('martha')) f.push(tag("Martha's Rule call", 'nhsuk-tag--red'));
  if (p.daily && p.daily.worse) f.push(tag('Feels worse', 'nhsuk-tag--orange'));
  if (p.daily && p.daily.due) f.push(tag('Daily question due', 'nhsuk-tag--blue'));
  if (p.ai_opted_out) f.push(tag('AI opt-out', 'nhsuk-tag--grey'));
  if (p.scale2 && p.scale2.in_force) f.push(tag('SpO2 Scale 2', 'nhsuk-tag--purple'));
  if (p.plan && p.plan.active) f.push(tag('Escalation plan', 'nhsuk-tag--aqua-green'));
  if (f.length === 0) return el('span', {}, 'None');
  return el('div', { class: 'vigil-flags' }, f);
}

/* The trend word comes from complete sets only: a partial set's total ("≥0") is a lower
 * bound, and comparing it with a complete total would call a falling figure "Steady" or
 * a deteriorating patient "Falling". */
export function trendView(totals) {
  if (!totals || totals.length < 2) return el('span', {}, totals && totals.length === 1 ? 'One set so far' : 'No trend yet');
  const complete = totals.filter((x) => typeof x === 'number');
  if (complete.length < 2) return el('span', {}, 'No trend yet (partial sets): ' + totals.join(', '));
  const last = complete[complete.length - 1];
  const prev = complete[complete.length - 2];
  const word = last > prev ? 'Rising' : last < prev ? 'Falling' : 'Steady';
  return el('span', {}, el('span', { class: 'nhsuk-u-font-weight-bold' }, word), ': ' + totals.join(', '));
}

export function patientName(p) {
  return p.patient.name && p.patient.name.length ? p.patient.name : 'NHS ' + p.patient.nhs_number;
}
