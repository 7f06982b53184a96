// handover.js: a ward's handover sheet, one SBAR block per bed (situation,
// background, assessment, recommendation), most urgent first; printable
// (the print stylesheet hides the header and the buttons).
import { api, page, el, clear, param, clock, SessionEnded } from '/js/app.js';
import { LEVEL_RANK, PARAM_WORDS, patientName } from '/js/views.js';

function sbar(p) {
  const n = p.news2;
  const esc = p.escalation;
  const news = n ? 'NEWS2 ' + (n.complete ? n.total : 'at least ' + n.total + ' (incomplete: ' + n.missing.map((m) => PARAM_WORDS[m] || m).join(', ') + ' missing)') + ', ' + n.risk + ' risk' : 'no observations';
  const open = p.alerts.filter((a) => !a.acknowledged).length;
  const ai = p.ai_opted_out ? 'AI opted out' : !p.ai ? 'no AI score' : p.ai.status === 'not-enough-data' ? 'AI: not enough data to score' : 'AI risk ' + Math.round(p.ai.probability * 1000) / 10 + '%' + (p.ai.low_confidence ? ' (low confidence)' : '');
  const flags = [];
  if (esc.reasons.some((r) => r.code === 'staff-concern')) flags.push('staff concern open');
  if (p.marthas_unreviewed > 0) flags.push("Martha's Rule call not yet reviewed");
  if (p.daily.worse) flags.push('feels worse');
  const dl = (k, v) => el('div', { class: 'nhsuk-summary-list__row' }, el('dt', { class: 'nhsuk-summary-list__key' }, k), el('dd', { class: 'nhsuk-summary-list__value' }, v));
  return el('section', { class: 'nhsuk-card' }, el('div', { class: 'nhsuk-card__content' },
    el('h2', { class: 'nhsuk-card__heading nhsuk-heading-m' }, 'Bed ' + (p.bed || '-') + ': ' + patientName(p)),
    el('dl', { class: 'nhsuk-summary-list' },
      dl('Situation', news + '; ' + esc.level_text + (open ? '; ' + open + ' alert(s) not acknowledged' : '')),
      dl('Background', [p.plan.active ? 'revised escalation plan in force' : 'no revised plan', p.scale2.in_force ? 'SpO2 Scale 2' : null, p.ai_opted_out ? 'opted out of AI scoring' : null].filter(Boolean).join('; ')),
      dl('Assessment', [ai, ...flags].join('; ')),
      dl('Recommendation', (p.observations.overdue ? 'observations overdue now' : p.observations.due_at ? 'next observations due ' + clock(p.observations.due_at) : 'record a set') + '; ' + esc.level_text))));
}

async function main() {
  const me = await page(['nurse', 'doctor', 'outreach']);
  const ward = param('ward') || me.wards.find((w) => w !== '*');
  document.getElementById('print').addEventListener('click', () => window.print());
  if (!ward) {
    clear(document.getElementById('status')).append('No ward chosen.');
    return;
  }
  clear(document.getElementById('title')).append('Handover: ward ' + ward);
  const r = await api('GET', '/api/wards/' + encodeURIComponent(ward) + '/patients');
  if (!r.ok) {
    clear(document.getElementById('status')).append('Could not load the ward: ' + r.status);
    return;
  }
  const rows = [...r.body.patients].sort((a, b) => (LEVEL_RANK[b.escalation.level] || 0) - (LEVEL_RANK[a.escalation.level] || 0));
  clear(document.getElementById('sheet')).append(...rows.map(sbar));
  clear(document.getElementById('status')).append(rows.length + ' beds, ' + new Date(r.body.at).toLocaleString('en-GB'));
}
main().catch((e) => { if (!(e instanceof SessionEnded)) throw e; });
