// news2_js.test.mjs: NEWS2 as the nurse types it (web/js/news2.js) equals the core's
// (src/core/news2.c, through `vigil news2`) at every band edge, decimals included: the
// core rounds RR, SpO2, SBP and pulse half-up to an integer and temperature half-up to one
// decimal (docs/core.md NEWS2-ROUNDING), so the preview must too (a pulse of 90.4 is 0
// points, 90.5 is 1). The oracle is the core itself, run as a separate process.
import { execFileSync } from 'node:child_process';
import { Server, Checks, browser, BIN } from './harness.mjs';

const C = new Checks();
const edges = {
  rr: [7.5, 8, 8.4, 8.5, 11, 11.4, 11.5, 20, 20.49, 20.5, 24, 24.4, 24.5, 25],
  spo2: [91, 91.4, 91.5, 93, 93.49, 93.5, 95, 95.4, 95.5, 96],
  sbp: [90, 90.4, 90.5, 100, 100.49, 100.5, 110, 110.4, 110.5, 219, 219.4, 219.5, 220],
  hr: [40, 40.4, 40.5, 50, 50.49, 50.5, 90, 90.4, 90.5, 110, 110.4, 110.5, 130, 130.4, 130.5, 131],
  temp_c: [35, 35.04, 35.05, 36, 36.04, 36.05, 38, 38.04, 38.05, 39, 39.04, 39.05, 39.1],
};
const base = { rr: 16, spo2: 97, o2: 'air', sbp: 120, hr: 70, acvpu: 'A', temp_c: 37 };
const flag = { rr: '--rr', spo2: '--spo2', sbp: '--sbp', hr: '--hr', temp_c: '--temp' };
function core(set) {
  const args = ['news2', '--rr', String(set.rr), '--spo2', String(set.spo2), '--o2', set.o2, '--sbp', String(set.sbp),
    '--hr', String(set.hr), '--acvpu', set.acvpu, '--temp', String(set.temp_c)];
  return JSON.parse(execFileSync(BIN, args, { encoding: 'utf8' }).trim().split('\n')[0]);
}

const s = await Server.start();
const b = await browser();
try {
  const page = await b.newPage();
  await page.goto(s.url + '/');
  const sets = [];
  for (const [k, vs] of Object.entries(edges)) for (const v of vs) sets.push({ ...base, [k]: v, _edge: k + ' ' + v });
  const web = await page.evaluate(async (list) => {
    const { news2 } = await import('/js/news2.js');
    return list.map((x) => news2(x).total);
  }, sets);
  let same = 0;
  sets.forEach((x, i) => {
    const want = core(x).total;
    if (C.check(web[i] === want, `${x._edge}: the preview ${web[i]} equals the core's ${want}`)) same++;
  });
  console.log(`${same} of ${sets.length} band edges agree`);
} finally {
  await b.close();
  await s.stop();
}
C.done();
