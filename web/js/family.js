// family.js: Martha's Rule for patients and families, no account needed. The bedside code
// (from the card, or ?code= when its QR code was scanned) lets anyone at the bedside ask
// for an urgent review by critical care outreach, or give the daily "better, same or
// worse" answer. The server's answers never name the patient.
import { initAll } from '/assets/nhsuk/nhsuk-frontend.min.js';
import { api, el, clear, showErrors, param, errorText } from '/js/app.js';

initAll();
const code = param('code');
if (code) {
  document.getElementById('code').value = code;
  document.getElementById('daily-code').value = code;
}

function thanks(text) {
  const box = clear(document.getElementById('result'));
  const p = el('div', { class: 'nhsuk-panel', tabindex: '-1', role: 'status' },
    el('h2', { class: 'nhsuk-panel__title' }, 'Sent'), el('div', { class: 'nhsuk-panel__body' }, text));
  box.append(p);
  p.focus();
}

function wire(id, check, body, path) {
  const form = document.getElementById(id);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const errors = check(form);
    showErrors(form, errors);
    if (errors.length) return;
    const btn = form.querySelector('button');
    btn.disabled = true;
    try {
      const r = await api('POST', path, body(form));
      if (!r.ok) {
        showErrors(form, [{ field: r.status === 404 ? 'code' : null, text: errorText(r) }]);
        return;
      }
      form.reset();
      if (code) form.elements.code.value = code;
      thanks(r.body.message);
    } finally {
      btn.disabled = false;
    }
  });
}

const val = (f, n) => (f.elements[n] instanceof RadioNodeList ? f.elements[n].value : f.elements[n].value.trim());

wire('concern', (f) => [
  !val(f, 'code') && { field: 'code', text: 'Enter the bedside code from the card by the bed' },
  !val(f, 'who') && { field: 'who', text: 'Choose who you are' },
  !val(f, 'concern') && { field: 'concern', text: 'Tell us what is worrying you' },
].filter(Boolean), (f) => ({ code: val(f, 'code'), who: val(f, 'who'), concern: val(f, 'concern'), ...(val(f, 'name') ? { name: val(f, 'name') } : {}) }), '/api/family/concern');

wire('daily', (f) => [
  !val(f, 'code') && { field: 'code', text: 'Enter the bedside code from the card by the bed' },
  !val(f, 'answer') && { field: 'answer', text: 'Choose better, the same or worse' },
].filter(Boolean), (f) => ({ code: val(f, 'code'), answer: val(f, 'answer') }), '/api/family/daily-answer');
