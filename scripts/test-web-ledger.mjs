// Opens the browser bundle with a ledger to check (?ledger=&vkey=&asset=) in headless
// Chromium and waits for the page's verdict: it must say the asset's entries are proven in
// the signed checkpoint, and, for a tampered copy of the log, that they are not. The twin's
// citizens' view must choose that asset as the citizen's (it reads the page's check), and a
// check the view asks for (`data-ledger-request`, as its button does) must get a verdict too.
// Usage: node scripts/test-web-ledger.mjs BASE_URL VKEY ASSET   (PLAYWRIGHT_CORE: module dir)
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE);
const [base, vkey, asset] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
});
async function verdict(ledger) {
  const page = await browser.newPage();
  const q = new URLSearchParams({ ledger, vkey, asset });
  await page.goto(`${base}?${q}`);
  await page.waitForFunction(() => ['ok', 'failed'].includes(document.getElementById('ledger').dataset.state),
    null, { timeout: 120000 });
  const r = await page.$eval('#ledger', (e) => ({ state: e.dataset.state, text: e.textContent }));
  // The citizens' view took the checked asset as its home or pod.
  await page.waitForFunction((a) => document.documentElement.dataset.citizenPod === a, asset,
    { timeout: 120000 });
  // A check asked for by the view: the water works' entries.
  await page.evaluate(() => { document.documentElement.dataset.ledgerRequest = 'waterworks'; });
  await page.waitForFunction(() => document.documentElement.dataset.ledgerAsset === 'waterworks'
    && ['ok', 'failed'].includes(document.documentElement.dataset.ledgerState), null, { timeout: 120000 });
  r.asked = await page.evaluate(() => document.documentElement.dataset.ledgerState);
  await page.close();
  return r;
}
let failed = false;
const good = await verdict('ledger/');
console.log(`test-web-ledger: ${good.state}: ${good.text}`);
if (good.state !== 'ok' || !/all [1-9][0-9]* entries/.test(good.text)) failed = true;
console.log(`test-web-ledger: asked for by the view: waterworks: ${good.asked}`);
if (good.asked !== 'ok') failed = true;
const bad = await verdict('ledger-tampered/');
console.log(`test-web-ledger: tampered: ${bad.state}: ${bad.text}`);
if (bad.state !== 'failed') failed = true;
console.log(`test-web-ledger: tampered, asked for by the view: waterworks: ${bad.asked}`);
await browser.close();
if (failed) {
  console.error('test-web-ledger: FAILED');
  process.exit(1);
}
