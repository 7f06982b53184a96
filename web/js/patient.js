// patient.js: one patient. What is happening now (escalation, reasons,
// plan), the MHRA pulse-oximetry caution where SpO2 sits near a NEWS2
// threshold, open alerts with their acknowledgement forms, the AI risk
// trend with its explanation in words, the NEWS2 chart (SVG, RCP layout,
// every band named), the table of sets, and the actions a role may take.
// Refreshes every 5 s while no form is being filled in.
import { api, page, el, clear, param, clock, age, SessionEnded } from '/js/app.js';
import { news2View, aiView, levelView, flagsView, patientName, tag, PARAM_WORDS } from '/js/views.js';
import { input, textarea, radios, button, value, actionForm, confirmPanel, marthasReviewForm } from '/js/forms.js';
import { news2, BANDS } from '/js/news2.js';
import { VITALS } from '/js/vitals.js';

const NUMBERS = VITALS.filter((p) => p.type === 'number');

const id = param('id');
let me = null;
let view = null;
let sets = [];

function row(key, ...val) {
  return el('div', { class: 'nhsuk-summary-list__row' },
    el('dt', { class: 'nhsuk-summary-list__key' }, key),
    el('dd', { class: 'nhsuk-summary-list__value' }, val));
}

function renderSummary(p) {
  const esc = p.escalation;
  const reasons = el('ul', { class: 'nhsuk-list nhsuk-list--bullet vigil-small' },
    esc.reasons.map((r) => el('li', {}, r.text + (r.drives ? ' (sets the level)' : ''))));
  const plan = p.plan.active
    ? el('span', {}, 'Revised escalation plan in force' + (p.plan.applies_here ? '' : ' (recorded before this version: shown, not applied)') +
      (p.plan.review_at ? '; review ' + clock(p.plan.review_at) : ''))
    : 'No revised plan: NEWS2 as charted';
  clear(document.getElementById('summary')).append(
    row('Ward and bed', (p.ward || 'not admitted') + ', bed ' + (p.bed || '-')),
    row('NHS number', p.patient.nhs_number),
    row('Escalation', levelView(esc), ' ', esc.level_text, reasons),
    row('NEWS2', news2View(p.news2)),
    row('Observations', p.observations.overdue ? tag('Overdue', 'nhsuk-tag--red') : '',
      p.observations.due_at ? ' due ' + clock(p.observations.due_at) : ' no due time'),
    row('Plan', plan),
    row('Flags', flagsView(p)),
    row('How the patient feels (daily question)', p.daily.answer ? p.daily.answer + ' (' + clock(p.daily.at) + ')' : 'Not asked yet'));
  const near = p.news2 && (p.news2.flags || []).includes('spo2_near_threshold');
  const mhra = document.getElementById('mhra');
  mhra.hidden = !near;
  clear(mhra);
  if (near) {
    mhra.append(el('div', { class: 'nhsuk-warning-callout' },
      el('h3', { class: 'nhsuk-warning-callout__label' }, el('span', { role: 'text' }, el('span', { class: 'nhsuk-u-visually-hidden' }, 'Important: '), 'SpO2 near a NEWS2 threshold')),
      el('p', {}, 'Pulse oximeters can overestimate oxygen saturation in people with darker skin (MHRA safety notice). Do not rely on this reading alone: look at the patient and the trend.'),
      el('p', {}, 'Consider an arterial or venous blood gas where the result would change the response.')));
  }
}

function ackForm(a) {
  const reasonBox = textarea('reason', 'Reason', { hint: 'Needed when you decline' });
  return actionForm('ack-' + a.alert_id, [
    radios('action', 'Acknowledge this alert', [['attending', 'Attending', 'I am going to the patient now'], ['reviewed', 'Reviewed'], ['escalated', 'Escalated', 'Passed to a more senior clinician or outreach'], ['declined', 'Declined', 'Give the reason']]),
    reasonBox, button('Acknowledge alert')], {
    check: (f) => {
      const e = [];
      if (!value(f, 'action')) e.push({ field: 'action', text: 'Choose how you acknowledge the alert' });
      if (value(f, 'action') === 'declined' && !value(f, 'reason')) e.push({ field: 'reason', text: 'Enter why you decline' });
      return e;
    },
    send: (f) => api('POST', '/api/alerts/' + a.alert_id + '/ack', value(f, 'reason') ? { action: value(f, 'action'), reason: value(f, 'reason') } : { action: value(f, 'action') }),
    done: async () => { await refresh(true); confirmPanel(document.getElementById('alerts'), 'Alert acknowledged'); },
  });
}

function renderAlerts(p) {
  const box = clear(document.getElementById('alerts'));
  if (p.alerts.length === 0) {
    box.append(el('p', {}, 'No open alerts.'));
    return;
  }
  for (const a of p.alerts) {
    const card = el('div', { class: 'nhsuk-card' }, el('div', { class: 'nhsuk-card__content' },
      el('h3', { class: 'nhsuk-card__heading nhsuk-heading-s' }, a.kind === 'marthas-rule' ? "Martha's Rule call" : 'Alert: ' + a.notify),
      el('p', {}, 'Raised ' + clock(a.raised_at) + ' (' + age(a.raised_at) + ' ago), sent ' + a.n_sent + ' time' + (a.n_sent === 1 ? '' : 's') + '.'),
      a.acknowledged ? el('p', {}, tag('Acknowledged', 'nhsuk-tag--grey'), ' ' + a.ack.action + ' by ' + a.ack.by + ' at ' + clock(a.ack.at)) : null,
      !a.acknowledged && a.kind !== 'marthas-rule' && ['nurse', 'doctor', 'outreach'].includes(me.role) ? ackForm(a) : null,
      a.kind === 'marthas-rule' && a.call_id && ['doctor', 'outreach'].includes(me.role) ? reviewForm(a) : null));
    box.append(card);
  }
}

function reviewForm(a) {
  return marthasReviewForm('review-' + a.alert_id, a.call_id, me.username,
    async () => { await refresh(true); confirmPanel(document.getElementById('alerts'), 'Review recorded'); });
}

function renderAi(p, data) {
  const box = clear(document.getElementById('ai'));
  box.append(el('p', {}, aiView(p.ai, p.ai_opted_out, data.scoring)));
  const scored = sets.filter((s) => s.ai);
  if (scored.length) {
    const last = scored[scored.length - 1].ai;
    if (last.status !== 'not-enough-data') {
      box.append(el('p', { class: 'vigil-small' }, 'Trend (oldest first): ' + scored.slice(-8).map((s) => s.ai.status === 'not-enough-data' ? 'not enough data' : Math.round(s.ai.probability * 1000) / 10 + '%').join(', ')));
    }
    const ex = last.explanation;
    if (ex && typeof ex === 'object' && !Array.isArray(ex)) {
      if (ex.up && ex.up.length) box.append(el('p', {}, 'Raising the risk: ' + ex.up.join('; ')));
      if (ex.down && ex.down.length) box.append(el('p', {}, 'Lowering the risk: ' + ex.down.join('; ')));
      if (ex.inputs_out_of_range) box.append(el('p', {}, ex.inputs_out_of_range + ' input(s) outside the range the model was trained on.'));
      const na = ex.not_available || ex.missing;
      if (na && na.length) box.append(el('p', {}, 'Not yet available to the model: ' + na.join(', ')));
      if (ex.warning) box.append(el('p', { class: 'vigil-small' }, ex.warning));
    }
  }
  if (p.news2 && !p.news2.complete) {
    box.append(el('p', { class: 'vigil-small' }, 'Not in the latest set: ' + p.news2.missing.map((m) => PARAM_WORDS[m] || m).join(', ') + '.'));
  }
}

/* ---- the chart: one panel per parameter, its NEWS2 bands drawn and named, sets as columns ---- */
// each numeric row of the table with a chart range (src/core/vitals.c, /js/vitals.js)
const PANELS = VITALS.filter((v) => v.chart).map((v) => ({ key: v.key, name: v.chart.label, lo: v.chart.lo, hi: v.chart.hi, step: 10 ** -v.decimals }));

function chart(list) {
  const shown = list.slice(-16);
  const W = 960, left = 170, colW = (W - left - 10) / Math.max(shown.length, 1), ph = 132, gap = 30;
  const H = 40 + PANELS.length * (ph + gap) + 60;
  const svg = el('svg', { class: 'vigil-chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'chart-title chart-desc' },
    el('title', { id: 'chart-title' }, 'NEWS2 observation chart'),
    el('desc', { id: 'chart-desc' }, shown.length + ' sets; the table of sets below gives every value and score.'));
  shown.forEach((s, i) => {
    const x = left + colW * (i + 0.5);
    svg.append(el('text', { class: 'time', x, y: 16, 'text-anchor': 'middle' }, new Date(s.measured_at).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })));
  });
  PANELS.forEach((pn, k) => {
    // RCP layout: every band a row of the same height, highest values at the top
    const top = 30 + k * (ph + gap);
    const bands = BANDS[pn.key];
    const rowH = ph / bands.length;
    const edges = bands.map((b, i) => [i === 0 ? pn.lo : bands[i - 1].hi + pn.step, b.hi === Infinity ? pn.hi : b.hi]);
    const y = (v) => {
      let i = bands.findIndex((b) => v <= b.hi);
      if (i < 0) i = bands.length - 1;
      const [lo, hi] = edges[i];
      const f = hi > lo ? (Math.min(Math.max(v, lo), hi) - lo) / (hi - lo) : 0.5;
      return top + ph - (i + 0.1 + 0.8 * f) * rowH;
    };
    svg.append(el('text', { class: 'axis-label', x: 4, y: top - 6 }, pn.name));
    bands.forEach((b, i) => {
      const yTop = top + ph - (i + 1) * rowH;
      svg.append(el('rect', { class: 'band-' + b.s, x: left, y: yTop, width: W - left - 10, height: rowH }));
      svg.append(el('line', { class: 'grid', x1: left, x2: W - 10, y1: yTop, y2: yTop }));
      svg.append(el('text', { class: 'band-label', x: left - 6, y: yTop + rowH / 2 + 4, 'text-anchor': 'end' }, b.t + ': score ' + b.s));
    });
    const pts = [];
    shown.forEach((s, i) => {
      const v = s.values[pn.key];
      if (v === null || v === undefined) return;
      const x = left + colW * (i + 0.5);
      pts.push(`${x},${y(v)}`);
      svg.append(el('circle', { class: 'point', cx: x, cy: y(v), r: 4 }));
      svg.append(el('text', { class: 'value', x: x + 6, y: y(v) - 6 }, String(v)));
    });
    if (pts.length > 1) svg.append(el('polyline', { class: 'series', points: pts.join(' ') }));
  });
  const top = 30 + PANELS.length * (ph + gap);
  const levels = VITALS.find((v) => v.type === 'acvpu'); // the consciousness row of the table
  svg.append(el('text', { class: 'axis-label', x: 4, y: top + 10 }, levels.form_label));
  svg.append(el('text', { class: 'axis-label', x: 4, y: top + 38 }, 'NEWS2 total'));
  shown.forEach((s, i) => {
    const x = left + colW * (i + 0.5);
    svg.append(el('text', { class: 'value', x, y: top + 10, 'text-anchor': 'middle' }, s.values[levels.key] || '–'));
    if (s.news2) svg.append(el('text', { class: 'axis-label', x, y: top + 38, 'text-anchor': 'middle' }, (s.news2.complete ? '' : '≥') + s.news2.total));
  });
  return svg;
}

function setsTable(list) {
  const head = ['Measured', ...VITALS.map((p) => p.heading), 'NEWS2', 'Recorded by'];
  const t = el('table', { class: 'nhsuk-table' },
    el('caption', { class: 'nhsuk-table__caption nhsuk-u-visually-hidden' }, 'Observation sets, newest first'),
    el('thead', { class: 'nhsuk-table__head' }, el('tr', {}, head.map((h) => el('th', { scope: 'col' }, h)))));
  const body = el('tbody', { class: 'nhsuk-table__body' });
  for (const s of [...list].reverse().slice(0, 50)) {
    const v = s.values;
    const n = s.news2;
    const show = (x) => (x === null || x === undefined ? 'missing' : String(x));
    body.append(el('tr', { class: 'nhsuk-table__row' },
      el('td', {}, clock(s.measured_at)),
      ...VITALS.map((p) => el('td', {}, show(v[p.key]) + (p.name === 'spo2' && v.spo2_scale === 2 ? ' (Scale 2)' : ''))),
      el('td', {}, n ? (n.complete ? String(n.total) : 'at least ' + n.total + ' (incomplete)') + ', ' + n.risk : '-'),
      el('td', {}, (s.recorded_by || s.source) + (String(s.source_id).startsWith('demo-entered:') ? ' (entered by the demo, not measured)' : ''))));
  }
  t.append(body);
  return t;
}

/* ---- actions ---- */
// one form field per row of the table, in chart order: a number, or the choices of its kind
const CHOICES = {
  o2: [[['air', 'Air'], ['oxygen', 'Oxygen']], { inline: true }],
  acvpu: [[['A', 'Alert'], ['C', 'New confusion'], ['V', 'Responds to voice'], ['P', 'Responds to pain'], ['U', 'Unresponsive']], {}],
};
function vitalInput(v, p) {
  if (v.type !== 'number') return radios(v.key, v.form_label, CHOICES[v.type][0], CHOICES[v.type][1]);
  const hint = v.name === 'spo2' && p.scale2.in_force ? 'Scale 2 is in force for this patient' : null;
  return input(v.key, v.form_label, { inputmode: v.decimals > 0 ? 'decimal' : 'numeric', hint });
}

function obsForm(p) {
  const preview = el('div', { class: 'nhsuk-inset-text', 'aria-live': 'polite', id: 'news2-preview' }, 'NEWS2 is worked out as you type.');
  const form = actionForm('record-set', [
    el('h3', { class: 'nhsuk-heading-s' }, 'Record an observation set'),
    ...VITALS.map((v) => vitalInput(v, p)),
    preview, button('Record set')], {
    check: (f) => {
      const e = [];
      // the plausible bounds of the table (src/core/vitals.c), the server's own
      for (const { key: k, min: lo, max: hi, label } of NUMBERS) {
        const v = value(f, k);
        const w = label.charAt(0).toUpperCase() + label.slice(1);
        if (v !== '' && (!/^\d+(\.\d+)?$/.test(v) || +v < lo || +v > hi)) e.push({ field: k, text: w + ' must be a number from ' + lo + ' to ' + hi });
      }
      const any = VITALS.some((p) => value(f, p.key) !== '');
      if (!any) e.push({ field: VITALS[0].key, text: 'Enter at least one observation' });
      return e;
    },
    send: (f) => {
      const body = {};
      for (const p of VITALS) if (value(f, p.key) !== '') body[p.key] = p.type === 'number' ? Number(value(f, p.key)) : value(f, p.key);
      return api('POST', '/api/patients/' + id + '/observations', body);
    },
    done: async (r) => {
      await refresh(true);
      const n = r.body.news2;
      confirmPanel(document.getElementById('actions'), 'Set recorded: NEWS2 ' + (n.complete ? n.total : 'at least ' + n.total) + ' (' + n.risk + ' risk)');
      clear(preview).append('NEWS2 is worked out as you type.');
    },
  });
  form.addEventListener('input', () => {
    const set = {};
    for (const p of VITALS) set[p.key] = value(form, p.key) === '' ? null : p.type === 'number' ? Number(value(form, p.key)) : value(form, p.key);
    const n = news2(set, view && view.scale2.in_force);
    clear(preview).append(el('span', { class: 'nhsuk-u-font-weight-bold', id: 'news2-preview-total' }, 'NEWS2 ' + (n.complete ? '' : 'at least ') + n.total),
      ' (' + n.risk + ' risk' + (n.single_param_3 ? ', 3 in one parameter' : '') + ')',
      n.complete ? '' : '. Still to enter: ' + n.missing.map((m) => PARAM_WORDS[m] || m).join(', '));
  });
  return form;
}

function simpleForm(formId, heading, parts, check, send, doneText) {
  return actionForm(formId, [el('h3', { class: 'nhsuk-heading-s' }, heading), ...parts], {
    check, send,
    done: async () => { await refresh(true); confirmPanel(document.getElementById('actions'), doneText); },
  });
}

function renderActions(p) {
  const box = clear(document.getElementById('actions'));
  const clinical = ['nurse', 'doctor', 'outreach'].includes(me.role);
  if (!clinical) return;
  box.append(el('p', {}, el('a', { href: '/card?id=' + id }, "Print the bedside card (Martha's Rule code for the patient and family)")));
  box.append(obsForm(p));
  box.append(simpleForm('concern', 'Raise a staff concern', [textarea('concern', 'What worries you about this patient?'), button('Raise concern')],
    (f) => (value(f, 'concern') ? [] : [{ field: 'concern', text: 'Enter what worries you' }]),
    (f) => api('POST', '/api/patients/' + id + '/concerns', { concern: value(f, 'concern') }), 'Concern raised: at least an urgent ward review'));
  box.append(simpleForm('marthas', "Record a Martha's Rule call", [
    radios('caller', 'Who called', [['patient', 'The patient'], ['family', 'Family'], ['carer', 'Carer'], ['staff', 'Staff']]),
    input('caller_name', 'Their name (optional)', { width: 'nhsuk-u-width-two-thirds' }),
    input('channel', 'How they called', { width: 'nhsuk-u-width-two-thirds', hint: 'For example: phone, in person' }),
    textarea('mr_concern', 'Their concern'), button("Record Martha's Rule call")],
  (f) => [!value(f, 'caller') && { field: 'caller', text: 'Choose who called' }, !value(f, 'channel') && { field: 'channel', text: 'Enter how they called' }, !value(f, 'mr_concern') && { field: 'mr_concern', text: 'Enter their concern' }].filter(Boolean),
  (f) => api('POST', '/api/patients/' + id + '/marthas-rule', { caller: value(f, 'caller'), channel: value(f, 'channel'), concern: value(f, 'mr_concern'), ...(value(f, 'caller_name') ? { caller_name: value(f, 'caller_name') } : {}) }),
  "Martha's Rule call recorded: critical-care outreach is alerted"));
  box.append(simpleForm('daily', 'Daily question: how does the patient feel today?', [
    radios('answer', 'Compared with yesterday, the patient feels', [['better', 'Better'], ['same', 'The same'], ['worse', 'Worse']], { inline: true }), button('Record answer')],
  (f) => (value(f, 'answer') ? [] : [{ field: 'answer', text: 'Choose better, the same or worse' }]),
  (f) => api('POST', '/api/patients/' + id + '/daily-answer', { answer: value(f, 'answer') }), 'Answer recorded'));
  const opt = el('form', { id: 'optout', novalidate: true },
    el('h3', { class: 'nhsuk-heading-s' }, 'AI scoring'),
    el('p', {}, p.ai_opted_out ? 'The patient has opted out of AI scoring: NEWS2 only.' : 'The patient can opt out of AI scoring at any time; NEWS2 goes on.'),
    button(p.ai_opted_out ? 'Withdraw the opt-out' : 'Record AI opt-out', { secondary: true }));
  opt.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = p.ai_opted_out ? await api('DELETE', '/api/patients/' + id + '/ai-optout') : await api('POST', '/api/patients/' + id + '/ai-optout', {});
    if (r.ok) { await refresh(true); confirmPanel(box, p.ai_opted_out ? 'Opt-out withdrawn' : 'Opt-out recorded'); }
  });
  box.append(opt);
  if (me.role === 'doctor') {
    box.append(simpleForm('scale2', p.scale2.in_force ? 'End SpO2 Scale 2' : 'Use SpO2 Scale 2 (hypercapnic respiratory failure)', [
      textarea('s2_reason', 'Reason'), button(p.scale2.in_force ? 'End Scale 2' : 'Record Scale 2 decision')],
    (f) => (value(f, 's2_reason') ? [] : [{ field: 's2_reason', text: 'Enter the reason' }]),
    (f) => api('POST', '/api/patients/' + id + (p.scale2.in_force ? '/scale2/end' : '/scale2'), { reason: value(f, 's2_reason') }), 'Scale 2 decision recorded'));
    box.append(simpleForm('plan', 'Revised escalation plan', [
      radios('level', 'Escalate at', [['ward', 'Nurse to assess'], ['urgent-ward', 'Urgent ward review'], ['urgent', 'Urgent review'], ['emergency', 'Emergency']]),
      input('news2_usual_max', 'Usual NEWS2 for this patient, at most', { inputmode: 'numeric' }),
      textarea('p_reason', 'Reason'), textarea('plan_text', 'Plan'),
      input('review_hours', 'Review in (hours)', { inputmode: 'numeric' }), button('Record plan')],
    (f) => {
      const e = [];
      if (!value(f, 'level')) e.push({ field: 'level', text: 'Choose the level' });
      if (!/^\d+$/.test(value(f, 'news2_usual_max'))) e.push({ field: 'news2_usual_max', text: 'Enter the usual NEWS2 as a whole number' });
      if (!value(f, 'p_reason')) e.push({ field: 'p_reason', text: 'Enter the reason' });
      if (!value(f, 'plan_text')) e.push({ field: 'plan_text', text: 'Enter the plan' });
      if (!/^\d+$/.test(value(f, 'review_hours')) || +value(f, 'review_hours') < 1) e.push({ field: 'review_hours', text: 'Enter hours until review, 1 or more' });
      return e;
    },
    (f) => {
      const now = Date.now();
      const review = new Date(now + value(f, 'review_hours') * 3600e3).toISOString();
      return api('POST', '/api/patients/' + id + '/escalation-plan', { level: value(f, 'level'), news2_usual_max: Number(value(f, 'news2_usual_max')), reason: value(f, 'p_reason'), plan: value(f, 'plan_text'), review_at: review, expires_at: review });
    }, 'Plan recorded'));
  }
}

const HISTORY = {
  alert: (w) => 'Alert raised: ' + w,
  'alert-repeat': (w) => 'Alert sent again (' + w + ')',
  ack: (w) => 'Alert acknowledged: ' + w,
  'episode-close': () => 'Alert closed',
  'staff-concern': () => 'Staff concern raised',
  'marthas-call': (w) => "Martha's Rule call from " + w,
  'marthas-review': (w) => "Martha's Rule call reviewed: " + w,
  'daily-answer': (w) => 'Daily question: feels ' + w,
  'ai-optout': () => 'AI opt-out recorded',
  'ai-optout-withdrawn': () => 'AI opt-out withdrawn',
  scale2: () => 'SpO2 Scale 2 decided',
  'scale2-end': () => 'SpO2 Scale 2 ended',
  plan: () => 'Revised escalation plan',
};

function historyWhat(e) {
  return (HISTORY[e.kind] || ((w) => e.kind + ' ' + w))(e.what);
}

async function renderHistory() {
  /* read first, then replace: the history never stands empty while a refresh waits
     for the server (it blanked every 5 s for a request's length) */
  const r = await api('GET', '/api/patients/' + id + '/history');
  const box = clear(document.getElementById('history'));
  if (!r.ok) {
    box.append(el('p', {}, 'The history could not be loaded: ' + (r.body && r.body.error ? r.body.error.message : r.status)));
    return;
  }
  const ev = r.body.events;
  if (!ev.length) {
    box.append(el('p', {}, 'No escalations recorded.'));
    return;
  }
  box.append(el('table', { class: 'nhsuk-table' },
    el('caption', { class: 'nhsuk-table__caption nhsuk-u-visually-hidden' }, 'Escalation history, newest first'),
    el('thead', {}, el('tr', {}, ['When', 'What', 'Who', 'Why or details'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ev.map((e) => el('tr', {}, el('td', {}, clock(e.at)), el('td', {}, historyWhat(e)), el('td', {}, e.by || '-'), el('td', {}, e.detail || ''))))));
}

/* A form someone has started: left alone by the refresh. */
function dirty(where) {
  const a = document.activeElement;
  if (a && a !== document.body && a.closest(where)) return true;
  return [...document.querySelectorAll(where + ' form')].some((f) => [...f.elements].some((e) =>
    (e.type === 'radio' || e.type === 'checkbox' ? e.checked : e.tagName !== 'BUTTON' && e.value !== '')));
}

async function refresh(force = false) {
  const [a, b] = await Promise.all([api('GET', '/api/patients/' + id), api('GET', '/api/patients/' + id + '/observations')]);
  if (!a.ok) {
    clear(document.getElementById('status')).append('Could not load this patient: ' + (a.body && a.body.error ? a.body.error.message : a.status));
    return;
  }
  view = a.body;
  sets = b.ok ? b.body.observations : [];
  clear(document.getElementById('title')).append(patientName(view));
  document.title = patientName(view) + ' - vigil';
  const back = document.getElementById('back');
  back.setAttribute('href', '/ward?ward=' + encodeURIComponent(view.ward || ''));
  renderSummary(view);
  if (force || !dirty('#alerts')) renderAlerts(view);
  renderAi(view, { scoring: view.ai || sets.some((s) => s.ai) ? 'news2+ai' : 'news2-only' });
  clear(document.getElementById('chart')).append(chart(sets));
  clear(document.getElementById('sets')).append(setsTable(sets));
  await renderHistory();
  if (force || !dirty('#actions')) renderActions(view);
  clear(document.getElementById('status')).append('Updated ' + new Date().toLocaleTimeString('en-GB'));
}

async function main() {
  me = await page(['nurse', 'doctor', 'outreach']);
  if (!id) {
    clear(document.getElementById('status')).append('No patient chosen: open one from the ward list.');
    return;
  }
  await refresh(true);
  setInterval(async () => {
    try { await refresh(); } catch (e) { if (!(e instanceof SessionEnded)) throw e; }
  }, 5000);
}

main().catch((e) => { if (!(e instanceof SessionEnded)) throw e; });
