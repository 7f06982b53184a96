// signin.js: the sign-in page. On success: back to ?next= (a path of this
// site only) or the role's start page.
import { api, showErrors, ROLE_HOME, param } from '/js/app.js';
import { initAll } from '/assets/nhsuk/nhsuk-frontend.min.js';

initAll();
const form = document.getElementById('signin');
const next = param('next');
const safeNext = next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : null;
if (safeNext) document.getElementById('ended').hidden = false;

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const username = form.username.value.trim();
  const password = form.password.value;
  const errors = [];
  if (!username) errors.push({ field: 'username', text: 'Enter your username' });
  if (!password) errors.push({ field: 'password', text: 'Enter your password' });
  showErrors(form, errors);
  if (errors.length) return;
  const button = document.getElementById('sign-in');
  button.disabled = true;
  try {
    const r = await api('POST', '/api/login', { username, password });
    if (!r.ok) {
      const text = r.status === 429 ? 'Too many failed sign-ins: try again in 15 minutes'
        : r.status === 401 ? 'Username or password not recognised' : 'Sign-in failed: ' + (r.body && r.body.error ? r.body.error.message : r.status);
      showErrors(form, [{ field: 'password', text }]);
      return;
    }
    form.password.value = '';
    location.assign(safeNext || ROLE_HOME[r.body.user.role] || '/ward');
  } finally {
    button.disabled = false;
  }
});
