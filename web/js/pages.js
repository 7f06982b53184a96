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

const POST_WORDS = (level, step) => (level === 'in-charge'
  ? (step === 0 ? 'nurse in charge' : step === 1 ? 'site manager' : 'in charge, step ' + (step + 1))
  : (LEVEL_WORDS[level] || level) + ', call ' + (step + 1));

/* REQ ROTA-GAP: a gap in the rota is itself an alert to the nurse in charge and the
 * safety view: with paging on, the posts nobody holds on the user's wards (the server
 * scopes them) at the top of every page, with the way to fill them. */
async function pollGaps(box) {
  const r = await api('GET', '/api/rota/gaps');
  if (!r.ok) return;
  const gaps = r.body.paging ? r.body.gaps : [];
  const byWard = new Map();
  for (const g of gaps) {
    if (!byWard.has(g.ward)) byWard.set(g.ward, []);
    byWard.get(g.ward).push(POST_WORDS(g.level, g.step));
  }
  clear(box).append(...(gaps.length === 0 ? [] : [el('div', { class: 'nhsuk-warning-callout', 'data-rota-gaps': String(gaps.length) },
    el('h2', { class: 'nhsuk-warning-callout__label' },
      el('span', { role: 'text' }, el('span', { class: 'nhsuk-u-visually-hidden' }, 'Important: '),
        'Rota gaps: ' + gaps.length + ' post(s) nobody holds')),
    el('p', {}, 'An alert for these reaches nobody by pager: ',
      [...byWard].map(([w, posts]) => (w === '*' ? 'every ward' : 'ward ' + w) + ' (' + posts.join('; ') + ')').join(', '), '. ',
      el('a', { href: '/rota' }, 'Fill them on the rota')))]));
  box.hidden = gaps.length === 0;
}

/* Start paging in the page for a signed-in clinical user. */
export function startPages(me) {
  const main = document.getElementById('maincontent');
  if (!main) return;
  if (['nurse', 'safety-officer'].includes(me.role) && location.pathname !== '/rota') {
    const gaps = el('section', { id: 'rota-gaps', 'aria-label': 'Rota gaps', hidden: true });
    main.prepend(gaps);
    const tickGaps = () => pollGaps(gaps).catch(() => {});
    tickGaps();
    setInterval(tickGaps, 15000);
  }
  if (!['nurse', 'doctor', 'outreach'].includes(me.role)) return;
  const box = el('section', { id: 'pages', 'aria-label': 'Pages for you', hidden: true });
  const announce = el('div', { class: 'nhsuk-u-visually-hidden', 'aria-live': 'assertive', id: 'pages-announce' });
  main.prepend(box, announce);
  const tick = () => poll(box, announce).catch(() => {});
  tick();
  setInterval(tick, 3000);
}
