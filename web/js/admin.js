// admin.js: the users (role, wards, enabled, last sign-in) with disable and
// enable on each; add a user (role and wards); disable a leaver by name (their
// open sessions end at once). Administrator only.
import { api, page, el, clear, clock, SessionEnded } from '/js/app.js';
import { input, radios, button, value, actionForm, confirmPanel } from '/js/forms.js';
import { tag } from '/js/views.js';

const ROLE = { nurse: 'Nurse', doctor: 'Doctor', outreach: 'Critical-care outreach', 'safety-officer': 'Patient safety officer', admin: 'Administrator' };
let me = null;

function done(text) {
  confirmPanel(clear(document.getElementById('done')), text);
}

/* Disable or enable one user from the list; the list is read again after. */
function toggle(u) {
  const disable = u.enabled;
  const label = (disable ? 'Disable ' : 'Enable ') + u.username;
  return el('button', {
    class: 'nhsuk-button nhsuk-button--small nhsuk-u-margin-bottom-0 ' + (disable ? 'nhsuk-button--warning' : 'nhsuk-button--secondary'),
    type: 'button', 'data-user': u.username, 'aria-label': label,
    onclick: async (ev) => {
      ev.target.disabled = true;
      try {
        const r = await api('POST', '/api/admin/users/' + encodeURIComponent(u.username) + (disable ? '/disable' : '/enable'));
        if (!r.ok) {
          done('Could not ' + (disable ? 'disable ' : 'enable ') + u.username + ': ' + ((r.body && r.body.error && r.body.error.message) || r.status));
        } else {
          done(disable ? 'User ' + u.username + ' disabled; ' + r.body.sessions_ended + ' open session(s) ended' : 'User ' + u.username + ' enabled');
        }
        await list();
      } finally {
        ev.target.disabled = false;
      }
    },
  }, disable ? 'Disable' : 'Enable');
}

async function list() {
  const r = await api('GET', '/api/admin/users');
  const box = clear(document.getElementById('users'));
  if (!r.ok) {
    box.append(el('p', {}, 'Could not load the users: ' + r.status));
    return;
  }
  const users = r.body.users;
  box.append(el('table', { class: 'nhsuk-table', id: 'user-table' },
    el('caption', { class: 'nhsuk-table__caption' }, users.length + ' user' + (users.length === 1 ? '' : 's')),
    el('thead', { class: 'nhsuk-table__head' }, el('tr', {}, ['Username', 'Name', 'Role', 'Wards', 'Status', 'Last sign-in', 'Action'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', { class: 'nhsuk-table__body' }, users.map((u) => el('tr', { 'data-user': u.username },
      el('td', {}, u.username), el('td', {}, u.display_name), el('td', {}, ROLE[u.role] || u.role),
      el('td', {}, u.wards.map((w) => (w === '*' ? 'every ward' : w)).join(', ')),
      el('td', {}, u.enabled ? tag('Enabled', 'nhsuk-tag--green') : tag('Disabled', 'nhsuk-tag--grey')),
      el('td', {}, u.last_sign_in ? clock(u.last_sign_in) : 'Never'),
      el('td', {}, u.username === me.username ? 'This is you' : toggle(u)))))));
}

async function main() {
  me = await page(['admin']);
  await list();
  const box = document.getElementById('forms');
  box.append(actionForm('add-user', [
    el('h2', { class: 'nhsuk-heading-m' }, 'Add a user'),
    input('username', 'Username', { width: 'nhsuk-input--width-20' }),
    input('display_name', 'Full name', { width: 'nhsuk-input--width-30' }),
    radios('role', 'Role', [['nurse', 'Nurse'], ['doctor', 'Doctor'], ['outreach', 'Critical-care outreach'], ['safety-officer', 'Patient safety officer'], ['admin', 'Administrator']]),
    input('wards', 'Wards', { width: 'nhsuk-input--width-30', hint: 'Ward names separated by commas, or * for every ward' }),
    input('password', 'First password', { type: 'password', width: 'nhsuk-input--width-20', autocomplete: 'new-password', hint: 'At least 12 characters' }),
    button('Add user')], {
    check: (f) => {
      const e = [];
      if (!/^[A-Za-z0-9._-]{1,63}$/.test(value(f, 'username'))) e.push({ field: 'username', text: 'Enter a username of letters, digits, dots, dashes or underscores' });
      if (!value(f, 'display_name')) e.push({ field: 'display_name', text: 'Enter their full name' });
      if (!value(f, 'role')) e.push({ field: 'role', text: 'Choose a role' });
      if (!value(f, 'wards')) e.push({ field: 'wards', text: 'Enter at least one ward, or *' });
      if (f.elements.password.value.length < 12) e.push({ field: 'password', text: 'Enter a password of at least 12 characters' });
      return e;
    },
    send: (f) => api('POST', '/api/admin/users', { username: value(f, 'username'), display_name: value(f, 'display_name'), role: value(f, 'role'), password: f.elements.password.value, wards: value(f, 'wards').split(',').map((w) => w.trim()).filter(Boolean) }),
    done: async (r) => { done('User ' + r.body.username + ' added'); await list(); },
  }));
  box.append(actionForm('disable-user', [
    el('h2', { class: 'nhsuk-heading-m' }, 'Disable a leaver'),
    input('leaver', 'Username', { width: 'nhsuk-input--width-20', hint: 'They can no longer sign in; their open sessions end now' }),
    button('Disable user', { warning: true })], {
    check: (f) => (value(f, 'leaver') ? [] : [{ field: 'leaver', text: 'Enter the username' }]),
    send: (f) => api('POST', '/api/admin/users/' + encodeURIComponent(value(f, 'leaver')) + '/disable'),
    done: async (r) => { done('User disabled; ' + r.body.sessions_ended + ' open session(s) ended'); await list(); },
  }));
}
main().catch((e) => { if (!(e instanceof SessionEnded)) throw e; });
