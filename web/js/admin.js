// admin.js: add a user (role and wards) and disable a leaver (their open
// sessions end at once). Administrator only.
import { api, page, el, clear } from '/js/app.js';
import { input, radios, button, value, actionForm, confirmPanel } from '/js/forms.js';

async function main() {
  await page(['admin']);
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
    done: async (r) => confirmPanel(clear(document.getElementById('done')), 'User ' + r.body.username + ' added'),
  }));
  box.append(actionForm('disable-user', [
    el('h2', { class: 'nhsuk-heading-m' }, 'Disable a leaver'),
    input('leaver', 'Username', { width: 'nhsuk-input--width-20', hint: 'They can no longer sign in; their open sessions end now' }),
    button('Disable user', { warning: true })], {
    check: (f) => (value(f, 'leaver') ? [] : [{ field: 'leaver', text: 'Enter the username' }]),
    send: (f) => api('POST', '/api/admin/users/' + encodeURIComponent(value(f, 'leaver')) + '/disable'),
    done: async (r) => confirmPanel(clear(document.getElementById('done')), 'User disabled; ' + r.body.sessions_ended + ' open session(s) ended'),
  }));
}
main();
