// app.js: what every page of vigil's web app shares (docs/web.md).
// - el(): builds DOM nodes; data goes in only as text nodes (textContent),
//   never as markup, so a stored "<script>" in a name or a concern shows as
//   text (STYLE.md 11; tests/web checks it).
// - api(): fetch with the session cookie, the CSRF token on every
//   state-changing request (the server refuses it otherwise), and a session
//   that has ended sends the user to sign-in with this page kept in ?next=.
// - page(): the header (service name, who is signed in, sign-out) and the
//   signed-in user, for the roles a page allows.
import { initAll } from '/assets/nhsuk/nhsuk-frontend.min.js';
import { startPages } from '/js/pages.js';

export class SessionEnded extends Error {}

/* el('p', {class: 'x'}, 'text', child): attributes set one by one; strings become text nodes. */
export function el(tag, attrs = {}, ...children) {
  const svg = ['svg', 'g', 'rect', 'line', 'polyline', 'circle', 'text', 'title', 'desc', 'path'];
  const n = svg.includes(tag) ? document.createElementNS('http://www.w3.org/2000/svg', tag)
                              : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? '' : String(v));
  }
  append(n, children);
  return n;
}

export function append(n, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return n;
}

export function clear(n) {
  while (n.firstChild) n.removeChild(n.firstChild);
  return n;
}

let csrf = null;

export function signInUrl() {
  const here = location.pathname + location.search;
  return '/?next=' + encodeURIComponent(here);
}

/* A request to the JSON API: {status, ok, body}. Throws SessionEnded (after
   sending the user to sign-in) when the session has ended. */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  // no session, so no CSRF token: sign-in and the family page (the server checks Origin)
  const anonymous = path === '/api/login' || path.startsWith('/api/family/');
  if (method !== 'GET' && method !== 'HEAD' && !anonymous) {
    if (csrf === null) {
      const t = await api('GET', '/api/csrf');
      csrf = t.body.csrf_token;
    }
    headers['X-CSRF-Token'] = csrf;
  }
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  if (r.status === 401 && !anonymous) {
    location.assign(signInUrl());
    throw new SessionEnded('signed out');
  }
  let js = null;
  try {
    js = await r.json();
  } catch {
    js = null;
  }
  return { status: r.status, ok: r.ok, body: js };
}

export function errorText(res) {
  return res.body && res.body.error ? res.body.error.message : 'the service answered ' + res.status;
}

export const ROLE_HOME = {
  nurse: '/ward',
  doctor: '/ward',
  outreach: '/alerts',
  'safety-officer': '/safety',
  admin: '/admin',
};

export const ROLE_NAME = {
  nurse: 'Nurse',
  doctor: 'Doctor',
  outreach: 'Critical-care outreach',
  'safety-officer': 'Patient safety officer',
  admin: 'Administrator',
};

/* The signed-in user (or sign-in), the header filled in, nhsuk-frontend started. */
export async function page(roles) {
  const me = (await api('GET', '/api/me')).body.user;
  const who = document.getElementById('who');
  if (who) {
    clear(who).append(me.username + ' (' + (ROLE_NAME[me.role] || me.role) + ')');
  }
  const nav = document.getElementById('nav');
  if (nav) {
    const links = [];
    if (['nurse', 'doctor', 'outreach'].includes(me.role)) links.push(['/ward', 'Ward']);
    if (['nurse', 'doctor', 'outreach', 'safety-officer'].includes(me.role)) links.push(['/alerts', 'Open alerts']);
    if (['safety-officer', 'doctor', 'outreach'].includes(me.role)) links.push(['/safety', "Martha's Rule log"]);
    links.push(['/rota', 'Rota']);
    if (me.role === 'admin') links.push(['/admin', 'Users']);
    const menu = nav.querySelector('.nhsuk-header__menu');
    for (const [href, text] of links) {
      const a = el('a', { class: 'nhsuk-header__navigation-link', href }, text);
      if (location.pathname === href) a.setAttribute('aria-current', 'page');
      nav.insertBefore(el('li', { class: 'nhsuk-header__navigation-item' }, a), menu);
    }
  }
  const out = document.getElementById('sign-out');
  if (out) {
    out.addEventListener('click', async () => {
      await api('POST', '/api/logout');
      location.assign('/');
    });
  }
  if (roles && !roles.includes(me.role)) {
    const main = document.getElementById('maincontent');
    clear(main).append(el('h1', { class: 'nhsuk-heading-l' }, 'This page is not for your role'),
      el('p', {}, 'Go to ', el('a', { href: ROLE_HOME[me.role] || '/' }, 'your start page'), '.'));
    throw new SessionEnded('wrong role');
  }
  initAll();
  startPages(me);
  return me;
}

/* "12 min", "3 h 5 min", "2 days" since t (ISO). */
export function age(iso, now = Date.now()) {
  if (!iso) return '';
  let s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return s + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min';
  const h = Math.floor(m / 60);
  if (h < 48) return h + ' h ' + (m % 60) + ' min';
  return Math.floor(h / 24) + ' days';
}

export function clock(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

export function param(name) {
  return new URLSearchParams(location.search).get(name);
}

/* The NHS error summary and field messages for a form (errors: [{field, text}]). */
export function showErrors(form, errors) {
  let sum = form.querySelector('.nhsuk-error-summary');
  for (const g of form.querySelectorAll('.nhsuk-form-group--error')) g.classList.remove('nhsuk-form-group--error');
  for (const m of form.querySelectorAll('.nhsuk-error-message')) m.remove();
  for (const i of form.querySelectorAll('[aria-invalid]')) {
    i.removeAttribute('aria-invalid');
  }
  if (sum) sum.remove();
  if (errors.length === 0) return;
  const list = el('ul', { class: 'nhsuk-list nhsuk-error-summary__list' });
  for (const e of errors) {
    const target = e.field ? form.querySelector('[name="' + e.field + '"]') : null;
    list.append(el('li', {}, target ? el('a', { href: '#' + target.id }, e.text) : e.text));
    if (target) {
      const group = target.closest('.nhsuk-form-group');
      target.setAttribute('aria-invalid', 'true');
      if (group) {
        group.classList.add('nhsuk-form-group--error');
        const id = target.id + '-error';
        const msg = el('span', { class: 'nhsuk-error-message', id },
          el('span', { class: 'nhsuk-u-visually-hidden' }, 'Error: '), e.text);
        const anchor = group.querySelector('.nhsuk-radios, .nhsuk-input, .nhsuk-textarea, select') || target;
        anchor.before(msg);
        target.setAttribute('aria-describedby', id);
      }
    }
  }
  sum = el('div', { class: 'nhsuk-error-summary', tabindex: '-1' },
    el('div', { role: 'alert' },
      el('h2', { class: 'nhsuk-error-summary__title' }, 'There is a problem'),
      el('div', { class: 'nhsuk-error-summary__body' }, list)));
  form.prepend(sum);
  sum.focus();
}
