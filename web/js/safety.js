// safety.js: the Martha's Rule log for a month (patient safety officer), read
// from the monthly CSV export the API gives, with the CSV to download.
import { page, el, clear, clock, showErrors, SessionEnded } from '/js/app.js';

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
  if (!r.ok) {
    clear(document.getElementById('status')).append('Could not load the log: ' + r.status);
    return;
  }
  const rows = parseCsv(await r.text());
  const head = rows.shift() || [];
  const col = (name) => head.indexOf(name);
  clear(document.getElementById('status')).append(rows.length + " Martha's Rule call" + (rows.length === 1 ? '' : 's') + ' in ' + month);
  if (!rows.length) return;
  box.append(el('table', { class: 'nhsuk-table' },
    el('caption', { class: 'nhsuk-table__caption nhsuk-u-visually-hidden' }, "Martha's Rule calls"),
    el('thead', {}, el('tr', {}, ['Called', 'Ward', 'Caller', 'Concern', 'Reviewed by', 'Minutes to review', 'Outcome'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows.map((x) => el('tr', {}, el('td', {}, clock(x[col('called_at')])), el('td', {}, x[col('ward')]),
      el('td', {}, x[col('caller')] + (x[col('caller_name')] ? ' (' + x[col('caller_name')] + ')' : '')), el('td', {}, x[col('concern')]),
      el('td', {}, x[col('responder')] || 'Not reviewed yet'), el('td', {}, x[col('minutes_to_review')]), el('td', {}, x[col('outcome')]))))));
}

async function main() {
  await page(['safety-officer']);
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
}
main().catch((e) => { if (!(e instanceof SessionEnded)) throw e; });
