// Opens the browser bundle in headless Chromium (playwright-core), waits for the first frame
// and more frames, fails on any console error, checks by pixel statistics that the canvas
// shows the 3D scene and the citizens' overlay, and saves a screenshot.
// Usage: node scripts/test-web.mjs URL SCREENSHOT.png   (PLAYWRIGHT_CORE: module directory)
import { createRequire } from 'node:module';
import { inflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE);
const [url, shotPath] = process.argv.slice(2);
const FRAMES_AFTER_FIRST = Number(process.env.KOS_WEB_FRAMES || 30);
const TIMEOUT_MS = Number(process.env.KOS_WEB_TIMEOUT_MS || 240000);

/** Decodes an 8-bit RGB or RGBA PNG (what Chromium writes) into {width, height, rgba}. */
function decodePng(buf) {
  let at = 8, width = 0, height = 0, colorType = 0, idat = [];
  while (at < buf.length) {
    const len = buf.readUInt32BE(at), type = buf.toString('ascii', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0); height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('PNG: only 8-bit, non-interlaced');
      colorType = data[9];
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : colorType === 2 ? 3 : 0;
  if (!bpp) throw new Error(`PNG colour type ${colorType}`);
  const raw = inflateSync(Buffer.concat(idat)), stride = width * bpp;
  const out = new Uint8Array(width * height * 4), prev = new Uint8Array(stride), cur = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)], line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      let p = line[i];
      if (f === 1) p += a; else if (f === 2) p += b; else if (f === 3) p += (a + b) >> 1;
      else if (f === 4) { const q = a + b - c, pa = Math.abs(q - a), pb = Math.abs(q - b), pc = Math.abs(q - c);
        p += pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      cur[i] = p & 255;
    }
    for (let x = 0; x < width; x++) for (let k = 0; k < 4; k++)
      out[(y * width + x) * 4 + k] = k < bpp ? cur[x * bpp + k] : 255;
    prev.set(cur);
  }
  return { width, height, rgba: out };
}

/** Pixel statistics of a rectangle: share of terrain-green, sky, grey (egui) pixels, colours. */
function stats(img, x0, y0, x1, y1) {
  let n = 0, green = 0, sky = 0, grey = 0; const colours = new Set();
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
    const i = (y * img.width + x) * 4, r = img.rgba[i], g = img.rgba[i + 1], b = img.rgba[i + 2];
    n++;
    if (g > r + 8 && g > b + 8) green++;
    if (Math.abs(r - 158) < 12 && Math.abs(g - 189) < 12 && Math.abs(b - 219) < 12) sky++;
    if (Math.max(r, g, b) - Math.min(r, g, b) < 10) grey++;
    colours.add((r >> 4) << 8 | (g >> 4) << 4 | (b >> 4));
  }
  return { green: green / n, sky: sky / n, grey: grey / n, colours: colours.size };
}

const errors = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
});
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('Using exceptions for control flow')) errors.push(m.text());
  });
  page.on('pageerror', (e) => {
    if (!String(e).includes('Using exceptions for control flow')) errors.push(String(e));
  });
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => document.documentElement.hasAttribute('data-first-frame') ||
    document.getElementById('loading')?.classList.contains('failed'), null, { timeout: TIMEOUT_MS, polling: 250 });
  const wallFirst = Date.now() - t0;
  const first = await page.evaluate(() => ({
    frame: Number(document.documentElement.getAttribute('data-first-frame')),
    loaded: window.kosLoaded,
    frames: Number(document.documentElement.getAttribute('data-frames')),
  }));
  if (!first.frame) throw new Error('the twin did not start: ' + errors.join(' | '));
  await page.waitForFunction((n) => Number(document.documentElement.getAttribute('data-frames')) >= n,
    first.frames + FRAMES_AFTER_FIRST, { timeout: TIMEOUT_MS, polling: 250 });
  const t1 = Date.now();
  const frames0 = await page.evaluate(() => Number(document.documentElement.getAttribute('data-frames')));
  await page.waitForTimeout(2000);
  const frames1 = await page.evaluate(() => Number(document.documentElement.getAttribute('data-frames')));
  const fps = (frames1 - frames0) / ((Date.now() - t1) / 1000);
  const png = await page.screenshot();
  writeFileSync(shotPath, png);
  const img = decodePng(png);
  const W = img.width, H = img.height;
  const scene = stats(img, 0, 40, Math.floor(W * 0.6), H - 60);
  const topBar = stats(img, 0, 2, W, 22);
  const panel = stats(img, W - 300, 60, W - 20, 200);
  console.log(`test-web: first frame ${first.frame.toFixed(0)} ms after navigation start ` +
    `(wasm downloaded at ${first.loaded?.toFixed(0)} ms; ${wallFirst} ms wall from goto), ` +
    `${fps.toFixed(1)} frames/s in SwiftShader`);
  console.log('test-web: scene', JSON.stringify(scene), 'top bar', JSON.stringify(topBar), 'panel', JSON.stringify(panel));
  const problems = [];
  if (!(scene.green > 0.15)) problems.push(`too little terrain in the view (${scene.green.toFixed(3)} green)`);
  if (!(scene.colours > 24)) problems.push(`the view is too plain (${scene.colours} colours)`);
  if (!(topBar.grey > 0.6)) problems.push(`no overlay top bar (${topBar.grey.toFixed(3)} grey)`);
  if (!(panel.grey > 0.5)) problems.push(`no citizens' panel (${panel.grey.toFixed(3)} grey)`);
  if (errors.length) problems.push(`console errors:\n  ${errors.join('\n  ')}`);
  if (problems.length) { failed = true; console.error('test-web: FAILED\n- ' + problems.join('\n- ')); }
  else console.log(`test-web: ok, screenshot in ${shotPath}`);
} catch (e) {
  failed = true;
  console.error('test-web: FAILED:', e.message, errors.length ? '\nconsole errors:\n  ' + errors.join('\n  ') : '');
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
