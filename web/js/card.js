// card.js: a patient's bedside card (nurse, doctor, outreach): the bedside code and its
// QR code (drawn from the server's modules as SVG), printable. Names nothing about the patient.
import { api, page, el, clear, param, SessionEnded } from '/js/app.js';

function qrSvg(rows) {
  const n = rows.length + 8; // 4 modules of quiet zone each side
  const svg = el('svg', { viewBox: `0 0 ${n} ${n}`, width: 240, height: 240, role: 'img', 'aria-label': 'QR code for the family page with this bedside code' },
    el('rect', { x: 0, y: 0, width: n, height: n, fill: '#fff' }));
  rows.forEach((r, y) => {
    for (let x = 0; x < r.length; x++) if (r[x] === '1') svg.append(el('rect', { x: x + 4, y: y + 4, width: 1, height: 1, fill: '#000' }));
  });
  return svg;
}

async function main() {
  await page(['nurse', 'doctor', 'outreach']);
  document.getElementById('print').addEventListener('click', () => window.print());
  const r = await api('GET', '/api/patients/' + encodeURIComponent(param('id') || '') + '/bedside-code?origin=' + encodeURIComponent(location.origin));
  if (!r.ok) {
    clear(document.getElementById('status')).append('No card: ' + (r.body && r.body.error ? r.body.error.message : r.status));
    return;
  }
  clear(document.getElementById('code')).append(r.body.code);
  clear(document.getElementById('addr')).append(location.origin + '/family');
  if (r.body.qr) document.getElementById('qr').append(qrSvg(r.body.qr));
  document.getElementById('card').hidden = false;
  clear(document.getElementById('status')).append('The code ends ' + r.body.ends + '.');
}
main().catch((e) => { if (!(e instanceof SessionEnded)) throw e; });
