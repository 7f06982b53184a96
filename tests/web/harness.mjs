// harness.mjs: what the browser tests share (not a test itself).
// - Server: `vigil serve` on ephemeral loopback ports with a fresh store and
//   the build's web/; users added through the JSON API (Bearer); HL7 over MLLP.
// - browser(): Debian's Chromium through playwright-core (never a downloaded
//   browser), with the flags this machine needs (docs/web.md).
// - axe(): axe-core injected into the page, WCAG 2.2 A/AA rules.
// - Checks: collects failures; the last line is "N checks, N failed".
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import net from 'node:net';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const SRC = process.env.VIGIL_SOURCE_DIR || join(dirname(new URL(import.meta.url).pathname), '..', '..');
export const BUILD = process.env.VIGIL_BUILD_DIR || join(SRC, 'build');
export const BIN = process.env.VIGIL_BIN || join(BUILD, 'vigil');
export const SHOTS = join(BUILD, 'web-screenshots');
export const CHROMIUM = process.env.VIGIL_CHROMIUM || '/usr/bin/chromium';
export const ADMIN_PW = 'admin-password-1';
export const PASSWORD = 'correct-horse-1';

export class Checks {
  constructor() { this.n = 0; this.failed = []; }
  check(cond, what) {
    this.n++;
    if (!cond) { this.failed.push(what); console.log('FAIL: ' + what); }
    return cond;
  }
  done() {
    console.log(`${this.n} checks, ${this.failed.length} failed`);
    process.exitCode = this.failed.length ? 1 : 0;
  }
}

export class Server {
  static async start(extra = []) {
    const s = new Server();
    s.tmp = mkdtempSync(join(tmpdir(), 'vigil-web-'));
    s.db = join(s.tmp, 'ward.db');
    s.proc = spawn(BIN, ['serve', '--db', s.db, '--http-port', '0', '--mllp-port', '0',
      '--bootstrap-admin', 'admin', '--web-root', join(BUILD, 'web'), ...extra],
    { env: { ...process.env, VIGIL_ADMIN_PASSWORD: ADMIN_PW }, stdio: ['ignore', 'ignore', 'pipe'] });
    s.log = [];
    await new Promise((resolve, reject) => {
      let buf = '';
      // 90 s: a server loading a model bundle under the sanitizers on a loaded machine
      // took longer than 30 s (web.test_monitor_view in make check-asan)
      const t = setTimeout(() => reject(new Error('vigil serve did not start: ' + s.log.join('\n'))), 90000);
      s.proc.stderr.on('data', (d) => {
        buf += d.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          s.log.push(line);
          const m = /^vigil serve: http [0-9.]+:(\d+) mllp [0-9.]+:(\d+)$/.exec(line);
          if (m) { s.http = +m[1]; s.mllp = +m[2]; clearTimeout(t); resolve(); }
        }
      });
      s.proc.on('exit', (c) => reject(new Error('vigil serve exited ' + c + ': ' + s.log.join('\n'))));
    });
    s.url = `http://127.0.0.1:${s.http}`;
    s.tokens = {};
    s.tokens.admin = (await s.req('POST', '/api/login', { username: 'admin', password: ADMIN_PW })).body.token;
    return s;
  }

  async req(method, path, body, token) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = 'Bearer ' + token;
    const r = await fetch(this.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let js = null;
    try { js = await r.json(); } catch { js = null; }
    return { status: r.status, body: js, headers: r.headers };
  }

  async addUser(username, role, wards, displayName) {
    const r = await this.req('POST', '/api/admin/users', { username, display_name: displayName || username, role, password: PASSWORD, wards }, this.tokens.admin);
    if (r.status !== 201) throw new Error('add user ' + username + ': ' + JSON.stringify(r.body));
    this.tokens[username] = (await this.req('POST', '/api/login', { username, password: PASSWORD })).body.token;
  }

  /* Send HL7 messages over one MLLP connection; resolves with the ACKs' MSA-1 codes. */
  async hl7(...msgs) {
    return new Promise((resolve, reject) => {
      const sock = net.createConnection(this.mllp, '127.0.0.1');
      let buf = Buffer.alloc(0);
      const acks = [];
      sock.on('connect', () => { for (const m of msgs) sock.write(Buffer.concat([Buffer.from([0x0b]), Buffer.from(m), Buffer.from([0x1c, 0x0d])])); });
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        let j;
        while ((j = buf.indexOf(0x1c)) >= 0) {
          const ack = buf.slice(1, j).toString();
          buf = buf.slice(j + 2);
          const msa = ack.split('\r').find((x) => x.startsWith('MSA|'));
          acks.push(msa ? msa.split('|')[1] : '?');
          if (acks.length === msgs.length) { sock.end(); resolve(acks); }
        }
      });
      sock.on('error', reject);
    });
  }

  patientId(nhs) {
    return this.query(`SELECT id FROM patient WHERE nhs_number='${nhs}'`);
  }

  query(sql) {
    return new Promise((resolve, reject) => {
      const p = spawn('sqlite3', [this.db, sql]);
      let out = '';
      p.stdout.on('data', (d) => { out += d; });
      p.on('exit', (c) => (c === 0 ? resolve(out.trim()) : reject(new Error('sqlite3 ' + c))));
    });
  }

  async stop() {
    if (this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      await new Promise((r) => this.proc.on('exit', r));
    }
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

const ts = (d) => d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + '+0000';

export function adt(ctrl, event, nhs, ward, bed, name) {
  const t = ts(new Date());
  return [`MSH|^~\\&|PAS|RX1|VIGIL|RX1|${t}||ADT^${event}|${ctrl}|P|2.5.1`, `EVN|${event}|${t}`,
    `PID|1||${nhs}^^^NHS^NH||${name || 'TESTPATIENT^X'}||19600101|M`, `PV1|1|I|${ward}^BAY1^${bed}^RX1`].join('\r') + '\r';
}

export function oru(ctrl, nhs, v = {}, at = new Date()) {
  const t = ts(at);
  const val = { rr: 18, spo2: 97, fio2: 21, sbp: 128, hr: 72, acvpu: 'A', temp: 36.8, ...v };
  const obx = [['NM', '9279-1^Respiratory rate^LN', val.rr, '/min^/min^UCUM'], ['NM', '59408-5^SpO2^LN', val.spo2, '%^%^UCUM'],
    ['NM', '3150-0^FiO2^LN', val.fio2, '%^%^UCUM'], ['NM', '8480-6^Systolic blood pressure^LN', val.sbp, 'mm[Hg]^mm[Hg]^UCUM'],
    ['NM', '8867-4^Heart rate^LN', val.hr, '/min^/min^UCUM'], ['CWE', '1104441000000107^ACVPU^SCT', val.acvpu, ''],
    ['NM', '8310-5^Body temperature^LN', val.temp, 'Cel^Cel^UCUM']];
  const segs = [`MSH|^~\\&|EOBS|RX1|VIGIL|RX1|${t}||ORU^R01^ORU_R01|${ctrl}|P|2.5.1`, `PID|1||${nhs}^^^NHS^NH||TESTPATIENT^ALICE||19540312|F`,
    `OBR|1||OBS-${ctrl}|86290005^Vital signs^SCT|||${t}`];
  obx.forEach(([vt, code, x, unit], i) => { if (x !== null && x !== undefined) segs.push(`OBX|${i + 1}|${vt}|${code}||${x}|${unit}|||||F|||${t}`); });
  return segs.join('\r') + '\r';
}

export async function browser() {
  const { chromium } = require('playwright-core');
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-chromium-'));
  const b = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  b.dataDir = dataDir;
  return b;
}

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/* axe-core's WCAG 2.0/2.1/2.2 A and AA rules on the page as it is: the violations. */
export async function axe(page) {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
}

export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, name + '.png'), fullPage: true });
}
