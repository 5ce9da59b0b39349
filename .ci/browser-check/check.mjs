// The book in a real browser: opens every page of the built book from disk
// (file://, as a reader with no network would) in headless Chromium, with
// every non-file request blocked and reported, and checks that
//   - each page loads and every image on it loads (naturalWidth > 0),
//   - each lesson chapter shows the lesson's code (the first line of every
//     anchor it includes from lessons/ is visible in a code block),
//   - no code block scrolls sideways at a 1280-pixel window, in the light
//     theme and in the dark "navy" one (a failure names the page and the
//     block's first line),
//   - at a phone's width (390 pixels) every diagram fits the page, scaled
//     down rather than cut,
//   - every diagram, in the light and the "navy" theme, at 390 and 1280
//     pixels: its smallest text is drawn at 9 pixels or more, and on the
//     dark page it stands on no light box (a screenshot of it is not mostly
//     near-white); each of these views is saved as a screenshot,
//   - print.html, printed (print media emulated), shows the quiz answers,
//     and so does a chapter printed from its own page (beforeprint),
//   - the search box finds "SIGPIPE", and its first result opens.
// Screenshots go to target/browser-check/ (not in git), one per page, one
// per diagram view under diagrams/, plus chapter 01 in the dark "navy" theme.
//
// Usage: node .ci/browser-check/check.mjs [BUILD_DIR]   (default book/build)
// Needs Debian's chromium (/usr/bin/chromium, or $CHROMIUM) and
// `npm ci` in this directory; it downloads no browser.

import { chromium } from 'playwright-core';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const buildDir = resolve(process.argv[2] ?? join(root, 'book/build'));
const shots = join(root, 'target/browser-check');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

const problems = [];
let checks = 0;
function check(ok, message) {
  checks += 1;
  if (!ok) problems.push(message);
  return ok;
}
const fail = (message) => check(false, message);

/// The pages the summary lists, as built HTML file names.
function summaryPages() {
  const summary = readFileSync(join(root, 'book/src/SUMMARY.md'), 'utf8');
  return [...summary.matchAll(/\]\(([^)#]+)\.md\)/g)].map((m) => `${m[1]}.html`);
}

/// The code blocks of the open page that are wider than their box: each
/// with its first line and how many pixels it would scroll. (mdBook lets
/// the `code` inside a `pre` scroll, so both are measured.)
async function overflowingBlocks(page) {
  return page.$$eval('#mdbook-content pre', (blocks) =>
    blocks
      .filter((pre) => pre.offsetParent !== null)
      .map((pre) => {
        const boxes = [pre, ...pre.querySelectorAll('code')];
        const by = Math.max(...boxes.map((box) => box.scrollWidth - box.clientWidth));
        const first = (pre.innerText.split('\n').find((l) => l.trim() !== '') ?? '').trim();
        return { first, by };
      })
      .filter(({ by }) => by > 1),
  );
}

/// Opens `name` in `theme` (mdBook keeps the choice in localStorage).
async function openInTheme(page, name, theme) {
  const url = pathToFileURL(join(buildDir, name)).href;
  await page.goto(url, { waitUntil: 'load' });
  await page.evaluate((t) => localStorage.setItem('mdbook-theme', t), theme);
  await page.reload({ waitUntil: 'load' });
}

/// For a chapter NN-slug.html: the first non-blank line of every anchor it
/// includes from lessons/, which must be visible on the page.
function expectedCode(htmlName) {
  const markdown = join(root, 'book/src', htmlName.replace(/\.html$/, '.md'));
  const text = readFileSync(markdown, 'utf8');
  const lines = [];
  for (const [, path, anchor] of text.matchAll(/\{\{#include\s+([^:}\s]+):([^}\s]+)\s*\}\}/g)) {
    if (!path.includes('lessons/')) continue;
    const source = readFileSync(resolve(dirname(markdown), path), 'utf8').split('\n');
    const start = source.findIndex((l) => l.trim() === `// ANCHOR: ${anchor}`);
    const first = source.slice(start + 1).find((l) => l.trim() !== '' && !l.includes('ANCHOR'));
    if (start >= 0 && first) lines.push({ anchor, line: first.trim() });
  }
  return lines;
}

/// The smallest text of the SVG file at `url`, in its own units (the
/// viewBox's), with what it says: its font size times every transform
/// between it and the root. Opened on its own, in `page`.
async function smallestText(page, url) {
  await page.goto(url, { waitUntil: 'load' });
  return page.evaluate(() => {
    const root = document.documentElement;
    const rootScale = root.getScreenCTM().a;
    const width = root.viewBox.baseVal.width;
    let smallest = { size: Infinity, text: '' };
    for (const text of root.querySelectorAll('text, tspan')) {
      if (text.textContent.trim() === '') continue;
      const { a, b } = text.getScreenCTM(); // a rotated label scales by the length of (a, b)
      const size = (parseFloat(getComputedStyle(text).fontSize) * Math.hypot(a, b)) / rootScale;
      if (size < smallest.size) smallest = { size, text: text.textContent.trim() };
    }
    return { ...smallest, width };
  });
}

/// The share of near-white pixels in a PNG screenshot, read back through a
/// canvas of `page` (a data: URL, so nothing taints the canvas).
async function nearWhiteShare(page, png) {
  return page.evaluate(async (base64) => {
    const image = new Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.naturalWidth;
    canvas.height = image.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let light = 0;
    for (let at = 0; at < data.length; at += 4) {
      if (data[at] > 225 && data[at + 1] > 225 && data[at + 2] > 225) light += 1;
    }
    return light / (data.length / 4);
  }, png.toString('base64'));
}

/// Whether the first quiz answer of the open page is drawn: the first
/// fold whose summary says "Answer" has a visible part beside its summary.
async function answerShown(page) {
  return page.evaluate(() => {
    const fold = [...document.querySelectorAll('#mdbook-content details')].find((d) =>
      /answer/i.test(d.querySelector('summary')?.textContent ?? ''),
    );
    if (!fold) return { found: false };
    const parts = [...fold.children].filter((child) => child.tagName !== 'SUMMARY');
    const visible = parts.some((part) => part.checkVisibility() && part.getClientRects().length > 0);
    return { found: true, visible, text: parts.map((p) => p.textContent.trim()).join(' ').slice(0, 60) };
  });
}

/// Text drawn smaller than this many pixels is unreadable.
const SMALLEST_TEXT_PX = 9;
/// A diagram on a dark page whose screenshot is more than this share
/// near-white stands on a light box.
const LIGHT_SHARE = 0.2;

if (!existsSync(join(buildDir, 'index.html'))) {
  console.error(`browser-check: no ${buildDir}/index.html: build the book first (cargo lab book)`);
  process.exit(2);
}
if (!existsSync(executablePath)) {
  console.error(`browser-check: no Chromium at ${executablePath}: apt-get install -y chromium`);
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--allow-file-access-from-files',
  ],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
// The book must work with no network: anything but a file of the book
// itself is refused and counted as a failure.
await context.route('**/*', (route) => {
  const url = route.request().url();
  if (url.startsWith('file://') || url.startsWith('data:')) return route.continue();
  fail(`network request refused: ${url}`);
  return route.abort();
});

try {
  const pages = summaryPages();
  check(pages.length > 0, 'SUMMARY.md lists no page');
  for (const name of pages) {
    const page = await context.newPage();
    const failed = [];
    page.on('requestfailed', (request) => failed.push(`${request.url()} (${request.failure()?.errorText})`));
    page.on('pageerror', (error) => fail(`${name}: script error: ${error.message}`));
    const url = pathToFileURL(join(buildDir, name)).href;
    const response = await page.goto(url, { waitUntil: 'load' });
    check(response === null || response.ok(), `${name}: did not load`);
    const images = await page.$$eval('#mdbook-content img', (imgs) =>
      imgs.map((img) => ({ src: img.getAttribute('src'), loaded: img.complete && img.naturalWidth > 0 })),
    );
    // mdBook shows each image twice (inline, and a zoomed copy): one verdict per file.
    const verdicts = new Map(images.map((image) => [image.src, false]));
    for (const image of images) verdicts.set(image.src, verdicts.get(image.src) || image.loaded);
    for (const [src, loaded] of verdicts) check(loaded, `${name}: image ${src} did not load`);
    for (const request of new Set(failed)) fail(`${name}: request failed: ${request}`);

    if (/^\d\d-/.test(name)) {
      // The visible text of every code block (innerText skips hidden ones).
      const code = await page.$$eval('#mdbook-content pre code', (blocks) =>
        blocks.filter((b) => b.offsetParent !== null && b.getBoundingClientRect().height > 0).map((b) => b.innerText).join('\n'),
      );
      const expected = expectedCode(name);
      check(expected.length > 0, `${name}: includes no code from lessons/ by anchor`);
      for (const { anchor, line } of expected) {
        check(code.includes(line), `${name}: code of anchor "${anchor}" is not visible (looked for: ${line})`);
      }
    }
    await page.screenshot({ path: join(shots, name.replace(/\.html$/, '.png')), fullPage: true });
    await page.close();
  }

  // Code that fits the column: no block scrolls sideways, light or dark.
  for (const theme of ['light', 'navy']) {
    const page = await context.newPage();
    for (const name of pages) {
      await openInTheme(page, name, theme);
      const wide = await overflowingBlocks(page);
      const which = wide.map(({ first, by }) => `${by} px: ${first}`).join('; ');
      check(wide.length === 0, `${name} (${theme}, 1280 px): code scrolls sideways (${which})`);
    }
    await page.close();
  }

  // Diagrams on a phone: each one fits the page's width, scaled down.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
  await phone.route('**/*', (route) => {
    const url = route.request().url();
    return url.startsWith('file://') || url.startsWith('data:') ? route.continue() : route.abort();
  });
  const small = await phone.newPage();
  for (const name of pages) {
    await small.goto(pathToFileURL(join(buildDir, name)).href, { waitUntil: 'load' });
    const cut = await small.$$eval('#mdbook-content img', (imgs) =>
      imgs
        .filter((img) => img.offsetParent !== null)
        .filter((img) => img.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map((img) => img.getAttribute('src')),
    );
    check(cut.length === 0, `${name} (390 px): wider than the page: ${cut.join(', ')}`);
    if (await small.$$eval('#mdbook-content img', (imgs) => imgs.length > 0)) {
      await small.screenshot({ path: join(shots, name.replace(/\.html$/, '-390.png')), fullPage: true });
    }
  }
  await phone.close();

  // Diagrams readable on a phone and a desktop, in a light and a dark theme.
  const diagramShots = join(shots, 'diagrams');
  mkdirSync(diagramShots, { recursive: true });
  const measure = await context.newPage();
  const smallest = new Map();
  for (const theme of ['light', 'navy']) {
    for (const width of [390, 1280]) {
      const view = await browser.newContext({ viewport: { width, height: 900 } });
      await view.route('**/*', (route) => {
        const url = route.request().url();
        return url.startsWith('file://') || url.startsWith('data:') ? route.continue() : route.abort();
      });
      const page = await view.newPage();
      for (const name of pages) {
        await openInTheme(page, name, theme);
        const diagrams = await page.$$eval('#mdbook-content img', (imgs) =>
          imgs
            .map((img, index) => ({ index, src: img.getAttribute('src'), url: img.src, shown: img.offsetParent !== null }))
            .filter(({ src, shown }) => shown && src.endsWith('.svg')),
        );
        for (const { index, src, url } of diagrams) {
          if (!smallest.has(url)) smallest.set(url, await smallestText(measure, url));
          const { size, text, width: units } = smallest.get(url);
          const image = page.locator('#mdbook-content img').nth(index);
          await image.scrollIntoViewIfNeeded();
          const drawn = (await image.boundingBox()).width;
          const px = (size * drawn) / units;
          const where = `${name} ${src} (${theme}, ${width} px)`;
          check(
            px >= SMALLEST_TEXT_PX,
            `${where}: text drawn at ${px.toFixed(1)} px, under ${SMALLEST_TEXT_PX} ("${text}")`,
          );
          const stem = src.replace(/^.*\//, '').replace(/\.svg$/, '');
          const png = await image.screenshot({ path: join(diagramShots, `${stem}-${theme}-${width}.png`) });
          if (theme !== 'light') {
            const share = await nearWhiteShare(page, png);
            check(share <= LIGHT_SHARE, `${where}: stands on a light box (${(share * 100).toFixed(0)} % near-white)`);
          }
        }
      }
      await view.close();
    }
  }
  await measure.close();
  check(smallest.size > 0, 'no diagram found in any chapter');

  // Print keeps the folds: print.html (which mdBook prints once loaded) and
  // a chapter printed from its own page both show a quiz answer's text.
  const printing = await context.newPage();
  await printing.addInitScript(() => {
    window.print = () => {}; // the dialog would not come up headless anyway
  });
  await printing.emulateMedia({ media: 'print' });
  await printing.goto(pathToFileURL(join(buildDir, 'print.html')).href, { waitUntil: 'load' });
  const inPrint = await answerShown(printing);
  check(inPrint.found, 'print.html: no quiz answer (a <details> with an "Answer" summary) found');
  check(!inPrint.found || inPrint.visible, `print.html (print media): the quiz answer is hidden: ${inPrint.text}`);
  await printing.pdf({ path: join(shots, 'print.pdf') }).catch(() => {});
  await printing.goto(pathToFileURL(join(buildDir, '01-pipe-fork.html')).href, { waitUntil: 'load' });
  check(!(await answerShown(printing)).visible, '01-pipe-fork.html: a quiz answer is open before printing');
  await printing.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
  const chapter = await answerShown(printing);
  check(chapter.visible, `01-pipe-fork.html (printed): the quiz answer is hidden: ${chapter.text}`);
  await printing.evaluate(() => window.dispatchEvent(new Event('afterprint')));
  check(!(await answerShown(printing)).visible, '01-pipe-fork.html: the answer stays open after printing');
  await printing.close();

  // Chapter 01 in a dark theme, for a person to look at the diagram.
  const dark = await context.newPage();
  await dark.goto(pathToFileURL(join(buildDir, '01-pipe-fork.html')).href);
  await dark.evaluate(() => localStorage.setItem('mdbook-theme', 'navy'));
  await dark.reload({ waitUntil: 'load' });
  await dark.screenshot({ path: join(shots, '01-pipe-fork-navy.png'), fullPage: true });
  await dark.close();

  // Search, from disk: the index ships with the book.
  const search = await context.newPage();
  await search.goto(pathToFileURL(join(buildDir, 'index.html')).href, { waitUntil: 'load' });
  await search.click('#mdbook-search-toggle');
  // The index is a script loaded on the first search; type once it is in.
  await search.waitForFunction(() => window.search !== undefined, null, { timeout: 10000 }).catch(() => {});
  await search.locator('#mdbook-searchbar').pressSequentially('SIGPIPE', { delay: 20 });
  const found = await search
    .waitForFunction(() => document.querySelectorAll('#mdbook-searchresults li').length > 0, null, { timeout: 10000 })
    .then(() => true, () => false);
  if (check(found, 'search: "SIGPIPE" found nothing')) {
    const results = await search.$$eval('#mdbook-searchresults li a', (links) => links.map((a) => a.getAttribute('href')));
    await search.screenshot({ path: join(shots, 'search-sigpipe.png') });
    await search.click('#mdbook-searchresults li a');
    await search.waitForLoadState('load');
    const text = await search.textContent('#mdbook-content');
    check(/SIGPIPE/i.test(text ?? ''), `search: the first result (${results[0]}) does not mention SIGPIPE`);
  }
  await search.close();
} finally {
  await browser.close();
}

// All on stdout, so that the summary line is reliably the last one.
if (problems.length > 0) {
  console.log(`browser-check: ${problems.length} problem(s):`);
  for (const problem of problems) console.log(`  ${problem}`);
}
console.log(`screenshots: ${shots}`);
console.log(`browser-check: ${checks - problems.length} passed, ${problems.length} failed`);
process.exit(problems.length > 0 ? 1 : 0);
