// news2.js: NEWS2 (RCP 2017, chart 1 and 2) worked out in the browser as a nurse
// types a set, so the form shows the score before it is sent. The server's
// score (src/core/news2.c) is the one stored and acted on; tests/web checks
// that the two agree for the sets it records. Bands are also used to draw the
// chart (patient.js). A missing parameter is missing, never scored 0.
// Which parameters there are, their keys and names come from the one table of
// vital signs (src/core/vitals.c), written into /js/vitals.js by the build;
// the scoring rule of each is here, as in news2.c.

import { VITALS } from '/js/vitals.js';

export const BANDS = {
  rr: [{ hi: 8, s: 3, t: '≤8' }, { hi: 11, s: 1, t: '9–11' }, { hi: 20, s: 0, t: '12–20' }, { hi: 24, s: 2, t: '21–24' }, { hi: Infinity, s: 3, t: '≥25' }],
  spo2: [{ hi: 91, s: 3, t: '≤91' }, { hi: 93, s: 2, t: '92–93' }, { hi: 95, s: 1, t: '94–95' }, { hi: Infinity, s: 0, t: '≥96' }],
  sbp: [{ hi: 90, s: 3, t: '≤90' }, { hi: 100, s: 2, t: '91–100' }, { hi: 110, s: 1, t: '101–110' }, { hi: 219, s: 0, t: '111–219' }, { hi: Infinity, s: 3, t: '≥220' }],
  hr: [{ hi: 40, s: 3, t: '≤40' }, { hi: 50, s: 1, t: '41–50' }, { hi: 90, s: 0, t: '51–90' }, { hi: 110, s: 1, t: '91–110' }, { hi: 130, s: 2, t: '111–130' }, { hi: Infinity, s: 3, t: '≥131' }],
  temp_c: [{ hi: 35.0, s: 3, t: '≤35.0' }, { hi: 36.0, s: 1, t: '35.1–36.0' }, { hi: 38.0, s: 0, t: '36.1–38.0' }, { hi: 39.0, s: 1, t: '38.1–39.0' }, { hi: Infinity, s: 2, t: '≥39.1' }],
};

/* As the core (docs/core.md NEWS2-ROUNDING): RR, SpO2, SBP and pulse rounded half-up to an
   integer, temperature half-up to one decimal, before the band is looked up, so the preview
   never differs from the score stored (a pulse of 90.4 is 0 points, 90.5 is 1). */
function rounded(param, v) {
  return param === 'temp_c' ? Math.floor(v * 10 + 0.5 + 1e-9) / 10 : Math.floor(v + 0.5 + 1e-9);
}

function band(param, v) {
  const r = rounded(param, v);
  return BANDS[param].find((b) => r <= b.hi).s;
}

function spo2Scale2(v, o2) {
  if (v <= 83) return 3;
  if (v <= 85) return 2;
  if (v <= 87) return 1;
  if (v <= 92 || o2 !== 'oxygen') return 0;
  if (v <= 94) return 1;
  if (v <= 96) return 2;
  return 3;
}

/* set: {rr, spo2, o2: 'air'|'oxygen', sbp, hr, acvpu, temp_c} (numbers or null);
   scale2: the patient's recorded Scale 2 decision. */
export function news2(set, scale2 = false) {
  const sub = {};
  const num = (x) => (x === null || x === undefined || x === '' || Number.isNaN(x) ? null : Number(x));
  // one sub-score per row of the table, in chart order, under the row's name
  for (const v of VITALS) {
    const x = set[v.key];
    if (v.type === 'o2') sub[v.name] = x === 'oxygen' ? 2 : x === 'air' ? 0 : null;
    else if (v.type === 'acvpu') sub[v.name] = x ? (x === 'A' ? 0 : 3) : null;
    else if (num(x) === null) sub[v.name] = null;
    else if (v.name === 'spo2' && scale2) sub[v.name] = spo2Scale2(rounded('spo2', num(x)), set.o2);
    else sub[v.name] = band(v.key, num(x));
  }
  const vals = Object.values(sub);
  const missing = Object.keys(sub).filter((k) => sub[k] === null);
  const total = vals.reduce((a, b) => a + (b || 0), 0);
  const single3 = vals.some((v) => v === 3);
  const risk = total >= 7 ? 'high' : total >= 5 ? 'medium' : single3 ? 'low-medium' : 'low';
  return { total, sub, complete: missing.length === 0, missing, single_param_3: single3, risk, spo2_scale: scale2 ? 2 : 1 };
}
