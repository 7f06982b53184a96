// alerts.js: open alerts across the user's wards (outreach, and every
// clinical role), oldest unacknowledged first; updates every 2 s.
import { api, page, el, clear, clock, age, SessionEnded } from '/js/app.js';
import { tag } from '/js/views.js';

const LEVEL_WORDS = { 'nurse-assess': 'Nurse to assess', 'urgent-ward': 'Urgent ward review', urgent: 'Urgent review', emergency: 'Emergency', routine: 'Routine' };

async function load(me) {
  const r = await api('GET', '/api/alerts');
  if (!r.ok) {
    clear(document.getElementById('status')).append('Could not load the alerts: ' + r.status);
    return;
  }
  const rows = [...r.body.alerts].sort((a, b) => (a.acknowledged - b.acknowledged) || (Date.parse(a.raised_at) - Date.parse(b.raised_at)));
  const box = clear(document.getElementById('list'));
  if (rows.length === 0) box.append(el('p', {}, 'No open alerts.'));
  else {
    const clinical = ['nurse', 'doctor', 'outreach'].includes(me.role);
    box.append(el('table', { class: 'nhsuk-table' },
      el('caption', { class: 'nhsuk-table__caption nhsuk-u-visually-hidden' }, 'Open alerts'),
      el('thead', {}, el('tr', {}, ['Raised', 'Open for', 'Ward and bed', 'Patient', 'Level', 'Why', 'Acknowledged'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows.map((a) => el('tr', {},
        el('td', {}, clock(a.raised_at)), el('td', {}, age(a.raised_at)), el('td', {}, a.ward + ', bed ' + a.bed),
        el('td', {}, clinical ? el('a', { href: '/patient?id=' + a.patient.id }, 'NHS ' + a.patient.nhs_number) : 'NHS ' + a.patient.nhs_number),
        el('td', {}, tag(LEVEL_WORDS[a.level] || a.level, a.level === 'emergency' ? 'nhsuk-tag--red' : 'nhsuk-tag--orange')),
        el('td', {}, a.trigger === 'marthas-rule' ? "Martha's Rule call" : a.trigger === 'staff-concern' ? 'Staff concern' : a.trigger.toUpperCase() === 'NEWS2' ? 'NEWS2' : a.trigger === 'ai' ? 'AI risk' : a.trigger),
        el('td', {}, a.acknowledged ? a.last_ack.action + ' by ' + a.last_ack.by : tag('Not acknowledged', 'nhsuk-tag--red')))))));
  }
  clear(document.getElementById('status')).append(rows.length + ' open, updated ' + new Date().toLocaleTimeString('en-GB'));
}

async function main() {
  const me = await page(['nurse', 'doctor', 'outreach', 'safety-officer']);
  for (;;) {
    try { await load(me); } catch (e) { if (e instanceof SessionEnded) return; }
    await new Promise((r) => setTimeout(r, 2000));
  }
}
main().catch((e) => { if (!(e instanceof SessionEnded)) throw e; });
