// pages.js: the web app as a paging channel (docs/server.md, "Paging"; issue 16).
// On every signed-in page of a clinical role, polls GET /api/pages (fetching marks a
// page delivered) and shows each unacknowledged page addressed to this user at the top
// of the page: level, ward, bed and rota step in words, a link to the patient (where
// the alert is acknowledged, which acknowledges the page) and "Mark as read"
// (POST /api/pages/{id}/read). A new page is announced to screen readers and sounds a
// short tone where the browser allows it; colour is never the only signal. Paging off
// on the server: the list is empty and nothing shows.
import { api, el, clear, clock } from '/js/app.js';

const LEVEL_WORDS = {
  ward: 'Nurse to assess', 'urgent-ward': 'Urgent ward review', urgent: 'Urgent review',
  emergency: 'Emergency', marthas: "Martha's Rule call",
};
const seen = new Set();

function tone() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    const ctx = new Ctx();
    const osc = ctx.createOscillator();
    osc.frequency.value = 880;
    osc.connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.4);
  } catch (e) {
    // a browser that allows no sound before a click: the banner and announcement remain
  }
}

function pageView(p) {
  const level = LEVEL_WORDS[p.level] || p.level;
  const where = 'ward ' + p.ward + (p.bed ? ', bed ' + p.bed : '');
  const read = el('button', { type: 'button', class: 'nhsuk-button nhsuk-button--secondary vigil-page-read',
    'data-page-read': p.id }, 'Mark as read');
  read.addEventListener('click', async () => {
    read.disabled = true;
    await api('POST', '/api/pages/' + p.id + '/read');
    read.textContent = 'Read';
  });
  return el('div', { class: 'nhsuk-warning-callout vigil-page', 'data-page': p.id },
    el('h2', { class: 'nhsuk-warning-callout__label' },
      el('span', { role: 'text' }, el('span', { class: 'nhsuk-u-visually-hidden' }, 'Important: '),
        'Page for you: ' + level)),
    el('p', {}, level + ' alert on ' + where + ' (rota step ' + (p.rota_step + 1) + '), paged at ' +
      clock(p.created_at) + (p.read_at ? '; read' : '') + '.'),
    el('p', {}, el('a', { href: '/patient?id=' + p.patient_id + '#alerts' }, 'Open the patient to acknowledge the alert'),
      ' ', p.read_at ? '' : read));
}

async function poll(box, announce) {
  const r = await api('GET', '/api/pages');
  if (!r.ok) return;
  const open = r.body.pages.filter((p) => p.channel === 'web' && !p.acknowledged_at);
  const fresh = open.filter((p) => !seen.has(p.id));
  fresh.forEach((p) => seen.add(p.id));
  clear(box).append(...open.map(pageView));
  box.hidden = open.length === 0;
  if (fresh.length > 0) {
    announce.textContent = fresh.length + ' new page(s) for you: ' +
      fresh.map((p) => (LEVEL_WORDS[p.level] || p.level) + ' on ward ' + p.ward + ' bed ' + p.bed).join('; ');
    tone();
  }
}

/* Start paging in the page for a signed-in clinical user. */
export function startPages(me) {
  if (!['nurse', 'doctor', 'outreach'].includes(me.role)) return;
  const main = document.getElementById('maincontent');
  if (!main) return;
  const box = el('section', { id: 'pages', 'aria-label': 'Pages for you', hidden: true });
  const announce = el('div', { class: 'nhsuk-u-visually-hidden', 'aria-live': 'assertive', id: 'pages-announce' });
  main.prepend(box, announce);
  const tick = () => poll(box, announce).catch(() => {});
  tick();
  setInterval(tick, 3000);
}
