// ward.js: the ward list. Beds ranked by escalation level, then AI risk;
// updated by itself every second (a new alert shows within 2 s of its
// ACK, without a reload); a new unacknowledged alert is announced to
// screen readers. Reads GET /api/wards/{ward}/patients; the NEWS2 trend
// from each patient's recent sets, fetched again only when a new set came.
import { api, page, el, clear, param, SessionEnded } from '/js/app.js';
import { news2View, aiView, levelView, obsView, alertsView, flagsView, trendView, patientName, LEVEL_RANK } from '/js/views.js';

const POLL_MS = 1000;
const trends = new Map(); // patient id -> {last_at, totals}
let seenAlerts = null;

async function trendOf(p) {
  const id = p.patient.id;
  const last = p.observations.last_at;
  const t = trends.get(id);
  if (t && t.last_at === last) return t.totals;
  const r = await api('GET', '/api/patients/' + id + '/observations');
  const totals = r.ok ? r.body.observations.filter((o) => o.news2).slice(-6).map((o) => o.news2.complete ? o.news2.total : '≥' + o.news2.total) : [];
  trends.set(id, { last_at: last, totals });
  return totals;
}

function rank(a, b) {
  const la = LEVEL_RANK[a.escalation.level] || 0;
  const lb = LEVEL_RANK[b.escalation.level] || 0;
  if (la !== lb) return lb - la;
  const pa = a.ai && a.ai.status !== 'not-enough-data' ? a.ai.probability : -1;
  const pb = b.ai && b.ai.status !== 'not-enough-data' ? b.ai.probability : -1;
  if (pa !== pb) return pb - pa;
  return String(a.bed).localeCompare(String(b.bed), 'en', { numeric: true });
}

async function render(ward, data) {
  const now = Date.parse(data.at) || Date.now();
  const rows = [...data.patients].sort(rank);
  const totals = await Promise.all(rows.map(trendOf));
  const body = document.getElementById('beds');
  const frag = document.createDocumentFragment();
  rows.forEach((p, i) => {
    const link = el('a', { href: '/patient?id=' + p.patient.id }, patientName(p));
    frag.append(el('tr', { class: 'nhsuk-table__row', 'data-patient': p.patient.id },
      el('td', { class: 'nhsuk-table__cell' }, p.bed || '-'),
      el('td', { class: 'nhsuk-table__cell' }, link, el('div', { class: 'vigil-small' }, 'NHS ' + p.patient.nhs_number),
        el('div', {}, levelView(p.escalation))),
      el('td', { class: 'nhsuk-table__cell' }, news2View(p.news2)),
      el('td', { class: 'nhsuk-table__cell' }, trendView(totals[i])),
      el('td', { class: 'nhsuk-table__cell' }, aiView(p.ai, p.ai_opted_out, data.scoring)),
      el('td', { class: 'nhsuk-table__cell' }, obsView(p.observations, now)),
      el('td', { class: 'nhsuk-table__cell' }, alertsView(p.alerts, now)),
      el('td', { class: 'nhsuk-table__cell' }, flagsView(p))));
  });
  clear(body).append(frag);
  // announce alerts that are new since the last refresh
  const open = new Set();
  for (const p of rows) for (const a of p.alerts) if (!a.acknowledged) open.add(a.alert_id + ':' + patientName(p) + ':' + p.bed);
  if (seenAlerts !== null) {
    const fresh = [...open].filter((k) => !seenAlerts.has(k));
    if (fresh.length) {
      clear(document.getElementById('announce')).append('New alert: ' + fresh.map((k) => k.split(':').slice(1).join(', bed ')).join('; '));
    }
  }
  seenAlerts = open;
  clear(document.getElementById('status')).append(rows.length + ' beds on ward ' + ward + ', updated ' +
    new Date(now).toLocaleTimeString('en-GB') + ' (updates every second)');
}

async function main() {
  const me = await page(['nurse', 'doctor', 'outreach']);
  const wards = me.wards.filter((w) => w !== '*');
  let ward = param('ward') || wards[0];
  const choose = document.getElementById('choose');
  const select = document.getElementById('ward-name');
  if (wards.length > 1 || me.wards.includes('*')) {
    choose.hidden = false;
    for (const w of wards.length ? wards : [ward].filter(Boolean)) select.append(el('option', { value: w }, w));
    if (ward) select.value = ward;
    choose.addEventListener('submit', (ev) => {
      ev.preventDefault();
      location.assign('/ward?ward=' + encodeURIComponent(select.value));
    });
  }
  if (!ward) {
    clear(document.getElementById('status')).append('Choose a ward: your account is not limited to one.');
    return;
  }
  clear(document.getElementById('title')).append('Ward ' + ward);
  document.title = 'Ward ' + ward + ' - vigil';
  document.getElementById('handover-link').setAttribute('href', '/handover?ward=' + encodeURIComponent(ward));
  for (;;) {
    try {
      const r = await api('GET', '/api/wards/' + encodeURIComponent(ward) + '/patients');
      if (r.ok) await render(ward, r.body);
      else clear(document.getElementById('status')).append('Could not load the ward: ' + (r.body && r.body.error ? r.body.error.message : r.status));
    } catch (e) {
      if (e instanceof SessionEnded) return;
      clear(document.getElementById('status')).append('Connection lost: trying again');
    }
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
}

main().catch((e) => { if (!(e instanceof SessionEnded)) throw e; });
