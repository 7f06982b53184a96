// rota.js: the rota (issue 16): who holds each post now and for the next 7 days, the
// gaps (posts nobody holds: an alert for one reaches nobody by pager), and, for those
// who may edit it (an administrator; a nurse for the wards in their scope, never '*':
// the server decides, REQ ROTA-EDIT-ROLES), adding a shift and ending one.
import { api, page, el, clear } from '/js/app.js';
import { input, radios, button, value, actionForm, confirmPanel } from '/js/forms.js';

const LEVEL = {
  ward: 'Ward (NEWS2 1-4)',
  'urgent-ward': 'Urgent ward review (a single 3)',
  urgent: 'Urgent (NEWS2 5-6)',
  emergency: 'Emergency (NEWS2 7 or more; critical-care outreach)',
  'in-charge': 'In charge',
};
const STEP = ['first call', 'second call', 'third call', 'fourth call'];

export function postText(level, step) {
  if (level === 'in-charge') return step === 0 ? 'Nurse in charge' : step === 1 ? 'Site manager' : 'In charge, step ' + step;
  return (LEVEL[level] || level).replace(/ \(.*\)$/, '') + ', ' + (STEP[step] || 'step ' + step);
}

function when(iso) {
  return new Date(iso).toLocaleString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

let me = null;
const editor = () => me.role === 'admin' || me.role === 'nurse';

async function showGaps() {
  const r = await api('GET', '/api/rota/gaps');
  const box = clear(document.getElementById('gaps'));
  if (!r.ok) return;
  const gaps = r.body.gaps || [];
  if (gaps.length === 0) {
    box.append(el('div', { class: 'nhsuk-inset-text' }, el('p', {}, 'Every post is held now: no gaps.')));
    return;
  }
  const byWard = new Map();
  for (const g of gaps) {
    if (!byWard.has(g.ward)) byWard.set(g.ward, []);
    byWard.get(g.ward).push(postText(g.level, g.step));
  }
  box.append(el('div', { class: 'nhsuk-warning-callout', 'data-gaps': String(gaps.length) },
    el('h2', { class: 'nhsuk-warning-callout__label' }, el('span', { role: 'text' }, el('span', { class: 'nhsuk-u-visually-hidden' }, 'Important: '), 'Rota gaps now: ' + gaps.length)),
    el('p', {}, 'Nobody holds these posts. An alert for one is shown in vigil but reaches nobody by pager.'),
    el('ul', {}, [...byWard].map(([w, posts]) => el('li', {}, 'Ward ' + w + ': ' + posts.join('; '))))));
}

async function showShifts(ward) {
  const status = document.getElementById('status');
  const q = ward ? '?ward=' + encodeURIComponent(ward) : '';
  const r = await api('GET', '/api/rota' + q);
  const box = clear(document.getElementById('shifts'));
  if (!r.ok) {
    status.textContent = 'The rota could not be read.';
    return;
  }
  const shifts = r.body.shifts || [];
  status.textContent = shifts.length + ' shift(s) now and in the next 7 days' + (ward ? ' for ward ' + ward : '');
  if (shifts.length === 0) return;
  const now = Date.now();
  const rows = shifts.map((s) => el('tr', { class: 'nhsuk-table__row', 'data-shift': String(s.id) },
    el('td', { class: 'nhsuk-table__cell' }, s.ward === '*' ? 'Every ward' : s.ward),
    el('td', { class: 'nhsuk-table__cell' }, postText(s.level, s.step)),
    el('td', { class: 'nhsuk-table__cell' }, s.username),
    el('td', { class: 'nhsuk-table__cell' }, when(s.from) + ' to ' + when(s.to), new Date(s.from).getTime() <= now ? el('strong', { class: 'nhsuk-tag nhsuk-tag--green nhsuk-u-margin-left-2' }, 'On now') : null),
    editor() ? el('td', { class: 'nhsuk-table__cell' }, endButton(s)) : null));
  box.append(el('table', { class: 'nhsuk-table' },
    el('caption', { class: 'nhsuk-table__caption' }, 'Shifts'),
    el('thead', { class: 'nhsuk-table__head' }, el('tr', { class: 'nhsuk-table__row' },
      ['Ward', 'Post', 'Who', 'When', editor() ? 'Action' : null].filter(Boolean).map((h) => el('th', { class: 'nhsuk-table__header', scope: 'col' }, h)))),
    el('tbody', { class: 'nhsuk-table__body' }, rows)));
}

function endButton(s) {
  const b = el('button', { class: 'nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0', type: 'button', 'data-end': String(s.id) },
    'End shift', el('span', { class: 'nhsuk-u-visually-hidden' }, ' of ' + s.username + ', ' + postText(s.level, s.step)));
  b.addEventListener('click', async () => {
    b.disabled = true;
    const r = await api('POST', '/api/rota/' + s.id + '/end');
    const done = clear(document.getElementById('done'));
    if (r.ok) {
      confirmPanel(done, 'Shift of ' + s.username + ' (' + postText(s.level, s.step) + ') ended now');
    } else {
      done.append(el('div', { class: 'nhsuk-error-summary', role: 'alert', tabindex: '-1' },
        el('h2', { class: 'nhsuk-error-summary__title' }, 'There is a problem'),
        el('div', { class: 'nhsuk-error-summary__body' }, el('p', {}, r.body && r.body.message ? r.body.message : 'The shift could not be ended'))));
      b.disabled = false;
    }
    await refresh();
  });
  return b;
}

function localToIso(v) {
  const t = new Date(v);
  return Number.isNaN(t.getTime()) ? null : t.toISOString().replace(/\.\d+Z$/, 'Z');
}

function addForm() {
  return actionForm('add-shift', [
    el('h2', { class: 'nhsuk-heading-m' }, 'Add a shift'),
    input('ward', 'Ward', { width: 'nhsuk-input--width-10', hint: me.role === 'admin' ? 'A ward name, or * for every ward' : 'One of your wards' }),
    radios('level', 'Post', Object.entries(LEVEL).map(([v, t]) => [v, t])),
    radios('step', 'Call', [['0', 'First call (step 0)', 'In charge: the nurse in charge'], ['1', 'Second call (step 1)', 'In charge: the site manager'], ['2', 'Third call (step 2)']], { inline: false }),
    input('username', 'Who (their vigil username)', { width: 'nhsuk-input--width-20' }),
    input('from', 'From', { type: 'datetime-local', width: 'nhsuk-input--width-20', hint: 'Your local time' }),
    input('to', 'To', { type: 'datetime-local', width: 'nhsuk-input--width-20' }),
    button('Add shift')], {
    check: (f) => {
      const e = [];
      if (!value(f, 'ward')) e.push({ field: 'ward', text: 'Enter the ward, or * for every ward' });
      if (!value(f, 'level')) e.push({ field: 'level', text: 'Choose the post' });
      if (!value(f, 'step')) e.push({ field: 'step', text: 'Choose the call' });
      if (!value(f, 'username')) e.push({ field: 'username', text: 'Enter who holds the post' });
      const from = localToIso(value(f, 'from')), to = localToIso(value(f, 'to'));
      if (!from) e.push({ field: 'from', text: 'Enter when the shift starts' });
      if (!to) e.push({ field: 'to', text: 'Enter when the shift ends' });
      else if (from && to <= from) e.push({ field: 'to', text: 'The shift must end after it starts' });
      return e;
    },
    send: (f) => api('POST', '/api/rota', { ward: value(f, 'ward'), level: value(f, 'level'), step: Number(value(f, 'step')),
      username: value(f, 'username'), from: localToIso(value(f, 'from')), to: localToIso(value(f, 'to')) }),
    done: async (r) => {
      confirmPanel(clear(document.getElementById('done')), 'Shift added: ' + r.body.username + ', ' + postText(r.body.level, r.body.step) + (r.body.ward === '*' ? ', every ward' : ', ward ' + r.body.ward));
      await refresh();
    },
  });
}

async function refresh() {
  await Promise.all([showGaps(), showShifts(document.getElementById('ward-filter').value.trim())]);
}

async function main() {
  me = await page(['nurse', 'doctor', 'outreach', 'safety-officer', 'admin']);
  document.getElementById('ward-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    await showShifts(document.getElementById('ward-filter').value.trim());
  });
  if (editor()) document.getElementById('forms').append(addForm());
  await refresh();
}
main();
