// web_build.mjs: the web app as `vigil serve` serves it (docs/web.md).
// Copies web/ (pages, our ES modules, styles) into OUT, and from npm's
// nhsuk-frontend (pinned by package-lock.json, installed by scripts/setup.sh)
// its compiled CSS and ES module into OUT/assets/nhsuk/ and its icons into
// OUT/assets/images/ (where its CSS looks for them). The CSS's @font-face
// rules, which point at assets.nhs.uk, are taken out: nothing is fetched from
// another site at run time (the CSP would refuse it anyway); the NHS font
// stack falls back to Arial.
// usage: node scripts/web_build.mjs SOURCE_DIR OUT_DIR
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
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
const css = readFileSync(join(dist, 'nhsuk-frontend.min.css'), 'utf8').replace(/@font-face\{[^}]*\}/g, '');
if (css.includes('assets.nhs.uk')) {
  console.error('web_build: the nhsuk-frontend CSS still names assets.nhs.uk');
  process.exit(1);
}
writeFileSync(join(out, 'assets', 'nhsuk', 'nhsuk-frontend.min.css'), css);
cpSync(join(dist, 'nhsuk-frontend.min.js'), join(out, 'assets', 'nhsuk', 'nhsuk-frontend.min.js'));
cpSync(join(dist, 'assets', 'images'), join(out, 'assets', 'images'), { recursive: true });
