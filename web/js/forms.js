// forms.js: NHS design system form parts, built as DOM (labels tied to
// inputs, hints by aria-describedby), and the submit handling every action
// shares: the NHS error summary and field messages (app.js showErrors) for
// what the page finds and for what the server refuses.
import { el, api, showErrors, errorText } from '/js/app.js';

let seq = 0;
const uid = (name) => 'f' + (++seq) + '-' + name;

export function input(name, label, opts = {}) {
  const id = uid(name);
  const hint = opts.hint ? el('div', { class: 'nhsuk-hint', id: id + '-hint' }, opts.hint) : null;
  return el('div', { class: 'nhsuk-form-group' },
    el('label', { class: 'nhsuk-label', for: id }, label), hint,
    el('input', { class: 'nhsuk-input ' + (opts.width || 'nhsuk-input--width-5'), id, name, type: opts.type || 'text',
      inputmode: opts.inputmode, autocomplete: opts.autocomplete || 'off', spellcheck: 'false', 'aria-describedby': hint ? id + '-hint' : null }));
}

export function textarea(name, label, opts = {}) {
  const id = uid(name);
  const hint = opts.hint ? el('div', { class: 'nhsuk-hint', id: id + '-hint' }, opts.hint) : null;
  return el('div', { class: 'nhsuk-form-group' },
    el('label', { class: 'nhsuk-label', for: id }, label), hint,
    el('textarea', { class: 'nhsuk-textarea', id, name, rows: opts.rows || 3, 'aria-describedby': hint ? id + '-hint' : null }));
}

/* options: [[value, label, hint?]] */
export function radios(name, legend, options, opts = {}) {
  const items = options.map(([value, label, hint], i) => {
    const id = uid(name + '-' + i);
    return el('div', { class: 'nhsuk-radios__item' },
      el('input', { class: 'nhsuk-radios__input', id, name, type: 'radio', value, 'aria-describedby': hint ? id + '-hint' : null }),
      el('label', { class: 'nhsuk-label nhsuk-radios__label', for: id }, label),
      hint ? el('div', { class: 'nhsuk-hint nhsuk-radios__hint', id: id + '-hint' }, hint) : null);
  });
  return el('div', { class: 'nhsuk-form-group' },
    el('fieldset', { class: 'nhsuk-fieldset' },
      el('legend', { class: 'nhsuk-fieldset__legend nhsuk-fieldset__legend--s' }, legend),
      el('div', { class: 'nhsuk-radios' + (opts.inline ? ' nhsuk-radios--inline' : ''), 'data-module': 'nhsuk-radios' }, items)));
}

export function button(text, opts = {}) {
  return el('button', { class: 'nhsuk-button' + (opts.secondary ? ' nhsuk-button--secondary' : '') + (opts.warning ? ' nhsuk-button--warning' : ''), type: opts.type || 'submit' }, text);
}

export function value(form, name) {
  const f = form.elements[name];
  if (!f) return '';
  if (f instanceof RadioNodeList) return f.value;
  return f.value.trim();
}

/* A form: check(form) -> [{field, text}]; send(form) -> api result; done(result). */
export function actionForm(id, parts, { check, send, done }) {
  const form = el('form', { id, novalidate: true }, parts);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const errors = check ? check(form) : [];
    showErrors(form, errors);
    if (errors.length) return;
    const btn = form.querySelector('button[type=submit]');
    if (btn) btn.disabled = true;
    try {
      const r = await send(form);
      if (!r.ok) {
        showErrors(form, [{ field: null, text: errorText(r) }]);
        return;
      }
      form.reset();
      await done(r);
    } finally {
      if (btn) btn.disabled = false;
    }
  });
  return form;
}

export function confirmPanel(where, text) {
  const p = el('div', { class: 'nhsuk-inset-text', role: 'status', tabindex: '-1' }, el('p', {}, text));
  where.prepend(p);
  p.focus();
  setTimeout(() => p.remove(), 8000);
}

/* The review of a Martha's Rule call (doctors, outreach): what it was about, its
   outcome, a note; recorded by responder. Used on the patient page and the log. */
export function marthasReviewForm(id, callId, responder, done, heading = 'Record the review of this call', level = 'h4') {
  return actionForm(id, [
    el(level, { class: 'nhsuk-heading-xs' }, heading),
    radios('category', 'What the call was about', [['acute-deterioration', 'Acute deterioration'], ['communication-coordination', 'Communication or coordination']]),
    radios('outcome', 'Outcome', [['change-in-care', 'Change in care'], ['transfer-higher-level', 'Transfer to a higher level of care'], ['no-change', 'No change']]),
    textarea('note', 'Note (optional)'), button('Record review')], {
    check: (f) => [!value(f, 'category') && { field: 'category', text: 'Choose what the call was about' }, !value(f, 'outcome') && { field: 'outcome', text: 'Choose the outcome' }].filter(Boolean),
    send: (f) => api('POST', '/api/marthas-rule/' + callId + '/review', { responder, category: value(f, 'category'), outcome: value(f, 'outcome'), ...(value(f, 'note') ? { note: value(f, 'note') } : {}) }),
    done,
  });
}
