// SPDX-License-Identifier: MIT
// html_check.mjs — opens a pyflare HTML report in headless Chromium, with every request but the
// report's own blocked, drives it like a reader and saves a screenshot.
//
// Usage: node html_check.mjs MODE REPORT.html SCREENSHOT.png [NAME...]
//   report   a real recording: the flame graph draws, the call tree shows NAME (the first
//            one), search highlights matches, the process selector, the library toggle and
//            the time range change what is shown
//   names    any recording: the call tree shows every NAME, found by search
//   hostile  the unit test's hostile names: no dialog, no element made of a name, every NAME
//            shown as text
//   big      a large recording: prints the timings, and the CPU time the page's process
//            took to get ready (load_cpu_ms), which the test holds to a limit
//   timeline the shares the timeline draws per lane and column (on CPU, waiting), for all
//            processes (lanes=JSON) and for the threads of the first one (thread_lanes=JSON),
//            which the test compares with what the workload measured
// Env:   PYFLARE_NPM_DIR  folder holding node_modules (default ~/.cache/pyflare/npm)
//        CHROMIUM         browser binary (default /usr/bin/chromium)
//        HTML_CHECK_TIMEOUT_MS  how long each step may take (default 60000); the self-test,
//                               which takes a busy machine minutes on a big report, ten times
//                               as long
// Prints "html_check: KEY=VALUE" lines; exits 0 when every check passed, 1 with a message.

import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const npmDir = resolve(process.env.PYFLARE_NPM_DIR || join(homedir(), '.cache/pyflare/npm'));
const require = createRequire(join(npmDir, 'node_modules', '.pyflare'));
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT_MS = Number(process.env.HTML_CHECK_TIMEOUT_MS) || 60000;

class CheckError extends Error {}

function fail(msg) {
	throw new CheckError(msg);
}

function say(key, value) {
	console.log(`html_check: ${key}=${value}`);
}

function serve(bytes) {
	const server = createServer((req, res) => {
		if (req.url !== '/report.html') {
			res.writeHead(404).end();
			return;
		}
		res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8',
				     'Content-Length': bytes.length });
		res.end(bytes);
	});
	return new Promise((ok, ko) => {
		server.once('error', ko);
		server.listen(0, '127.0.0.1', () => ok(server));
	});
}

// Pixels of a canvas that are not fully transparent.
async function inkedPixels(page, id) {
	return page.evaluate((id) => {
		const c = document.getElementById(id);

		if (!c || !c.width || !c.height)
			return 0;
		const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let n = 0;

		for (let i = 3; i < data.length; i += 4)
			if (data[i])
				n++;
		return n;
	}, id);
}

const rowsText = (page) => page.evaluate(() => document.getElementById('tree-rows').textContent);
const treeRows = (page) => page.evaluate(() => +document.getElementById('tree').dataset.rows);

async function waitFor(page, fn, arg, what, timeout = TIMEOUT_MS) {
	try {
		await page.waitForFunction(fn, arg, { timeout });
	} catch {
		fail(`timed out waiting for ${what}`);
	}
}

// Types @query into the search box and waits for the count of matches to settle.
async function search(page, query) {
	await page.fill('#search', query);
	await page.press('#search', 'Enter');
	await waitFor(page, (q) => document.getElementById('search').value === q &&
		      document.body.dataset.matches !== undefined &&
		      (q === '' || document.getElementById('matches').textContent !== ''),
		      query, `the search for "${query}"`);
	await page.waitForTimeout(100);
	return page.evaluate(() => ({
		matches: +document.body.dataset.matches,
		rows: document.querySelectorAll('#tree-rows .row.match').length,
		marks: document.querySelectorAll('#tree-rows mark').length,
		text: document.getElementById('matches').textContent,
	}));
}

// The trees of every view keep all the time, and each call once per caller (report.js).
async function selfTest(page) {
	await page.evaluate(() => { location.hash = 'selftest'; });
	await waitFor(page, () => document.body.dataset.selftest, undefined, 'the self-test',
		      10 * TIMEOUT_MS);
	const selftest = await page.evaluate(() => document.body.dataset.selftest);

	say('selftest', selftest);
	if (selftest !== 'ok')
		fail(`the self-test failed: ${selftest}`);
	await page.evaluate(() => { location.hash = ''; });
}

async function checkReport(page, names) {
	const name = names[0];

	if (!name)
		fail('report mode needs a function NAME to look for');
	await selfTest(page);
	const flameInk = await inkedPixels(page, 'flame');
	const timelineInk = await inkedPixels(page, 'timeline');

	say('flame_pixels', flameInk);
	say('timeline_pixels', timelineInk);
	if (flameInk < 2000)
		fail(`the flame graph is blank (${flameInk} pixels drawn)`);
	if (timelineInk < 200)
		fail(`the timeline is blank (${timelineInk} pixels drawn)`);

	// The call tree opens on the heavy paths: the function is there, or one search away.
	const text = await rowsText(page);

	say('tree_shows_name', text.includes(name));
	const found = await search(page, name);

	say('search', JSON.stringify(found));
	if (!(found.matches > 0 && found.rows > 0 && found.marks > 0))
		fail(`searching "${name}" highlighted nothing: ${JSON.stringify(found)}`);
	if (!(await rowsText(page)).includes(name))
		fail(`the call tree does not show "${name}" even after searching it`);
	const none = await search(page, 'no such function, surely');

	if (none.matches !== 0 || none.rows !== 0)
		fail(`a search for nothing matched: ${JSON.stringify(none)}`);
	await search(page, '');

	// The library toggle: frames fold into their callers, or come back.
	const libEnabled = await page.evaluate(() => !document.getElementById('hide-lib').disabled);

	if (!libEnabled)
		fail('the library toggle is disabled: no library frame was flagged');
	const before = { rows: await treeRows(page),
			 notes: await page.locator('#tree-rows .hid').count() };

	await page.click('#hide-lib');
	await page.waitForTimeout(150);
	const after = { rows: await treeRows(page),
			notes: await page.locator('#tree-rows .hid').count() };

	say('library_toggle', JSON.stringify({ before, after }));
	if (before.rows === after.rows)
		fail(`the library toggle left ${before.rows} rows in the call tree`);
	if (!before.notes && !after.notes)
		fail('no "[N frames hidden]" note with library code hidden');
	await page.click('#hide-lib');
	await page.waitForTimeout(150);

	// The process selector: another process, another tree.
	const options = await page.evaluate(() => [...document.querySelectorAll('#process option')]
		.filter((o) => !o.disabled && o.value !== '-1').map((o) => o.value));

	say('processes', options.length);
	if (options.length < 2)
		fail(`the process selector offers ${options.length} sampled processes; want 2+`);
	const shown = [], labels = (id) => page.evaluate((id) =>
		[...document.querySelectorAll(`#${id} option`)].map((o) => o.textContent), id);

	say('process_labels', JSON.stringify(await labels('process')));
	for (const value of options.slice(0, 2)) {
		await page.selectOption('#process', value);
		await page.waitForTimeout(150);
		shown.push(await rowsText(page));
		say(`thread_labels_${value}`, JSON.stringify(await labels('thread')));
	}
	if (shown[0] === shown[1])
		fail('selecting another process did not change the call tree');
	const threadOptions = await page.evaluate(() =>
		document.querySelectorAll('#thread option').length);

	say('thread_options', threadOptions);
	await page.selectOption('#process', '-1');
	await page.waitForTimeout(150);

	// The timeline: dragging selects a time range, which narrows the tree.
	const box = await page.locator('#timeline').boundingBox();
	const total0 = await page.evaluate(() =>
		document.querySelector('#tree-rows .row .time')?.textContent);

	await page.mouse.move(box.x + box.width * 0.55, box.y + box.height / 2);
	await page.mouse.down();
	await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 5 });
	await page.mouse.up();
	await page.waitForTimeout(150);
	const range = await page.evaluate(() => document.getElementById('range').textContent);
	const total1 = await page.evaluate(() =>
		document.querySelector('#tree-rows .row .time')?.textContent);

	say('range', JSON.stringify({ range, total0, total1 }));
	if (!range)
		fail('dragging on the timeline selected no range');
	await page.keyboard.press('Escape');
	await page.waitForTimeout(150);
	if (await page.evaluate(() => document.getElementById('range').textContent))
		fail('Esc did not clear the time range');

	// Zoom: a click on the flame graph focuses a frame and selects it in the tree.
	const fb = await page.locator('#flame').boundingBox();

	await page.mouse.click(fb.x + 40, fb.y + 18 * 2 + 9);
	await page.waitForTimeout(150);
	const crumbs = await page.evaluate(() => document.getElementById('crumbs').textContent);

	say('crumbs', JSON.stringify(crumbs));
	if (!crumbs)
		fail('a click on the flame graph zoomed nowhere');
	await page.keyboard.press('Escape');

	// Keyboard: the tree moves with the arrows.
	await page.focus('#tree');
	await page.keyboard.press('Home');
	await page.keyboard.press('ArrowDown');
	const selected = await page.locator('#tree-rows .row.selected').count();

	if (selected !== 1)
		fail(`arrow keys selected ${selected} rows in the call tree`);
	// For the screenshot: the search highlighting on, the page at rest.
	await search(page, name);
	await page.evaluate(() => document.activeElement.blur());
	await page.mouse.move(0, 0);
}

async function checkNames(page, names) {
	await selfTest(page);
	for (const name of names) {
		const found = await search(page, name);

		say('search', JSON.stringify(found));
		if (!(found.matches > 0 && (await rowsText(page)).includes(name)))
			fail(`"${name}" is not in the call tree (search: ${JSON.stringify(found)})`);
	}
}

async function checkHostile(page, names) {
	const intruders = await page.evaluate(() => ({
		elements: document.querySelectorAll('img, svg, iframe, object, embed, frame')
			.length,
		scripts: document.scripts.length,
		title: document.title,
	}));

	say('intruders', JSON.stringify(intruders));
	if (intruders.elements || intruders.scripts !== 2)
		fail(`names became markup: ${JSON.stringify(intruders)}`);
	await selfTest(page);
	// Every hostile name, searched for, shows as text: in the call tree, the selectors or the
	// header. The hostile process is the second one.
	await page.selectOption('#process', '1');
	for (const name of names) {
		const found = await search(page, name);
		const text = await page.evaluate(() =>
			document.getElementById('tree-rows').textContent +
			[...document.querySelectorAll('option')].map((o) => o.textContent)
				.join('\n') +
			document.querySelector('header').textContent);

		if (!text.includes(name))
			fail(`"${name}" is not shown as text (search: ${JSON.stringify(found)})`);
	}
	await search(page, 'onerror');
	// a different process, a time range, the library toggle: still nothing runs
	for (const value of await page.evaluate(() =>
		[...document.querySelectorAll('#process option')].filter((o) => !o.disabled)
			.map((o) => o.value)))
		await page.selectOption('#process', value);
	await page.click('#hide-lib');
	if (await page.evaluate(() => document.querySelectorAll('img, svg, iframe').length))
		fail('an element appeared while using the page');
	await page.selectOption('#process', '1');
	await search(page, 'onerror');
}

async function checkBig(page, loadMs) {
	const flameInk = await inkedPixels(page, 'flame');

	say('flame_pixels', flameInk);
	if (flameInk < 2000)
		fail(`the flame graph is blank (${flameInk} pixels drawn)`);
	let t = Date.now();
	const found = await search(page, 'function_12');

	say('search_ms', Date.now() - t);
	if (!found.matches)
		fail('searching the big report found nothing');
	await search(page, '');
	const options = await page.evaluate(() => [...document.querySelectorAll('#process option')]
		.filter((o) => !o.disabled && o.value !== '-1').map((o) => o.value));

	t = Date.now();
	await page.selectOption('#process', options[0]);
	await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => ok())));
	say('process_switch_ms', Date.now() - t);
	t = Date.now();
	await page.click('#hide-lib');
	await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => ok())));
	say('library_toggle_ms', Date.now() - t);
	await page.selectOption('#process', '-1');
	await page.mouse.move(0, 0);
	t = Date.now();
	await selfTest(page);
	say('selftest_ms', Date.now() - t);
}

// The timeline's drawn shares (report.js exposes them at #timeline-data), after a redraw.
async function drawnLanes(page) {
	await page.evaluate(() => {
		delete document.getElementById('timeline').dataset.lanes;
		location.hash = 'timeline-data';
	});
	await waitFor(page, () => document.getElementById('timeline').dataset.lanes, undefined,
		      'the timeline\'s shares (#timeline-data)');
	return page.evaluate(() => document.getElementById('timeline').dataset.lanes);
}

async function checkTimeline(page) {
	const timelineInk = await inkedPixels(page, 'timeline');

	say('timeline_pixels', timelineInk);
	say('lanes', await drawnLanes(page));
	const first = await page.evaluate(() => [...document.querySelectorAll('#process option')]
		.find((o) => !o.disabled && o.value !== '-1')?.value);

	if (first === undefined)
		fail('the process selector offers no sampled process');
	await page.selectOption('#process', first);
	await page.evaluate(() => { location.hash = ''; });
	say('thread_lanes', await drawnLanes(page));
	await page.selectOption('#process', '-1');
}

async function main() {
	const [mode, reportPath, shotPath, ...names] = process.argv.slice(2);

	if (!['report', 'names', 'hostile', 'big', 'timeline'].includes(mode) || !reportPath ||
	    !shotPath)
		fail('usage: node html_check.mjs report|names|hostile|big|timeline REPORT.html ' +
		     'SCREENSHOT.png [NAME...]');
	let playwright;

	try {
		playwright = require('playwright-core');
	} catch (e) {
		fail(`cannot load playwright-core from ${npmDir}/node_modules ` +
		     `(${e.code || e.message}); run \`make deps\` or set PYFLARE_NPM_DIR`);
	}
	const bytes = readFileSync(reportPath);

	say('bytes', bytes.length);
	const server = await serve(bytes);
	const url = `http://127.0.0.1:${server.address().port}/report.html`;
	const userDataDir = mkdtempSync(join(tmpdir(), 'pyflare-chromium-'));
	const problems = [];
	let context;

	try {
		context = await playwright.chromium.launchPersistentContext(userDataDir, {
			executablePath: chromiumPath,
			headless: true,
			args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
			       '--no-first-run', '--disable-background-networking',
			       '--disable-component-update', '--disable-sync',
			       '--enable-unsafe-swiftshader'],
			viewport: { width: 1400, height: 1100 },
			timeout: TIMEOUT_MS,
		});
		// The report must need nothing but itself.
		await context.route('**/*', (route) => {
			if (route.request().url() === url)
				return route.continue();
			problems.push('the page made a request: ' + route.request().url());
			return route.abort();
		});
		const page = context.pages()[0] || await context.newPage();

		page.on('console', (m) => {
			if (m.type() === 'error' || m.type() === 'warning')
				problems.push(`console ${m.type()}: ${m.text()}`);
		});
		page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
		page.on('crash', () => problems.push('the page crashed (out of memory?)'));
		page.on('dialog', (d) => {
			problems.push(`dialog (${d.type()}): ${d.message()}`);
			d.dismiss().catch(() => {});
		});

		const start = Date.now();

		await page.goto(url, { timeout: TIMEOUT_MS });
		await waitFor(page, () => document.body.dataset.ready === '1', undefined,
			      'the report to become ready' +
			      (problems.length ? ': ' + problems[0] : ''));
		const loadMs = Date.now() - start;
		const scriptMs = await page.evaluate(() => +document.body.dataset.loadMs);
		// the CPU time of the page's process so far: what loading cost, however long a
		// busy machine made it wait for a CPU
		const cdp = await context.newCDPSession(page);

		await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
		const metrics = (await cdp.send('Performance.getMetrics')).metrics;
		const processTime = metrics.find((m) => m.name === 'ProcessTime');

		if (!processTime)
			fail('Chromium reports no ProcessTime metric');
		say('load_ms', loadMs);
		say('load_cpu_ms', Math.round(processTime.value * 1000));
		say('script_ms', scriptMs);
		// the header's health line, as a reader sees it (its sum: test_health.py)
		say('health', JSON.stringify(await page.evaluate(() =>
			document.getElementById('health').textContent)));
		if (mode === 'report')
			await checkReport(page, names);
		else if (mode === 'names')
			await checkNames(page, names);
		else if (mode === 'hostile')
			await checkHostile(page, names);
		else if (mode === 'timeline')
			await checkTimeline(page);
		else
			await checkBig(page, loadMs);
		await page.waitForTimeout(200);
		await page.evaluate(() => window.scrollTo(0, 0));
		await page.screenshot({ path: shotPath });
		if (!statSync(shotPath).size)
			fail(`the screenshot ${shotPath} is empty`);
		if (mode === 'report') {
			// the dark theme follows the system's
			const dark = shotPath.replace(/(\.png)?$/, '-dark.png');

			await page.emulateMedia({ colorScheme: 'dark' });
			await page.waitForTimeout(300);
			await page.screenshot({ path: dark });
			say('dark', dark);
		}
		if (problems.length)
			fail(`the page reported problems:\n${problems.join('\n')}`);
		say('ok', shotPath);
	} catch (e) {
		if (context && context.pages().length)
			await context.pages()[0].screenshot({ path: shotPath }).catch(() => {});
		if (problems.length && e instanceof CheckError)
			e.message += '\n' + problems.join('\n');
		throw e;
	} finally {
		if (context)
			await context.close().catch(() => {});
		server.close();
		rmSync(userDataDir, { recursive: true, force: true });
	}
}

main().catch((e) => {
	const msg = e instanceof CheckError ? e.message : e.stack || e;

	console.error(`html_check: FAIL: ${msg}`);
	process.exit(1);
});
