// web_build.mjs: the web app as `vigil serve` serves it (docs/web.md).
// Copies web/ (pages, our ES modules, styles) into OUT, and from npm's
// nhsuk-frontend (pinned by package-lock.json, installed by scripts/setup.sh)
// its compiled CSS and ES module into OUT/assets/nhsuk/ and its icons into
// OUT/assets/images/ (where its CSS looks for them). The CSS's @font-face
// rules, which point at assets.nhs.uk, are taken out: nothing is fetched from
// another site at run time (the CSP would refuse it anyway); the NHS font
// stack falls back to Arial.
// usage: node scripts/web_build.mjs SOURCE_DIR OUT_DIR
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const [src, out] = process.argv.slice(2);
if (!src || !out) {
  console.error('usage: node scripts/web_build.mjs SOURCE_DIR OUT_DIR');
  process.exit(2);
}
const dist = join(src, 'node_modules', 'nhsuk-frontend', 'dist', 'nhsuk');
if (!existsSync(join(dist, 'nhsuk-frontend.min.css'))) {
  console.error('web_build: nhsuk-frontend is not installed: run scripts/setup.sh (npm ci)');
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets', 'nhsuk'), { recursive: true });
cpSync(join(src, 'web'), out, { recursive: true });
// the signed-in pages share one header: web/partials/header.html, put in at its marker
// (one copy in the source, the same markup in every page served); partials are not served
const header = readFileSync(join(src, 'web', 'partials', 'header.html'), 'utf8').replace(/\n$/, '');
const marker = /^ *<!-- vigil:header [^>]*-->$/m;
for (const f of readdirSync(out)) {
  if (!f.endsWith('.html')) continue;
  const page = readFileSync(join(out, f), 'utf8');
  if (marker.test(page)) writeFileSync(join(out, f), page.replace(marker, header));
}
rmSync(join(out, 'partials'), { recursive: true, force: true });
const css = readFileSync(join(dist, 'nhsuk-frontend.min.css'), 'utf8').replace(/@font-face\{[^}]*\}/g, '');
if (css.includes('assets.nhs.uk')) {
  console.error('web_build: the nhsuk-frontend CSS still names assets.nhs.uk');
  process.exit(1);
}
writeFileSync(join(out, 'assets', 'nhsuk', 'nhsuk-frontend.min.css'), css);
cpSync(join(dist, 'nhsuk-frontend.min.js'), join(out, 'assets', 'nhsuk', 'nhsuk-frontend.min.js'));
cpSync(join(dist, 'assets', 'images'), join(out, 'assets', 'images'), { recursive: true });
