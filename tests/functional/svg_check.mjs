// SPDX-License-Identifier: MIT
// svg_check.mjs — opens a pyflare SVG flame graph in headless Chromium, served as image/svg+xml
// with every other request blocked, uses it as a reader would and saves screenshots.
//
// Usage: node svg_check.mjs MODE GRAPH.svg SCREENSHOT.png [NAME...]
//   report   a real recording: every rectangle's width is its time's share of its graph; a
//            hover shows the details; a click on the widest NAME (the first one) zooms it to
//            the full width, its callers too and nothing else; Reset Zoom restores; the
//            Search button's prompt, answered NAME, highlights the matches and reports their
//            share; Esc resets
//   hostile  the unit test's hostile names: nothing runs (no dialog, no element but the
//            document's own), every NAME is shown as text, searching and zooming run nothing
// Env:   PYFLARE_NPM_DIR  folder holding node_modules (default ~/.cache/pyflare/npm)
//        CHROMIUM         browser binary (default /usr/bin/chromium)
//        SVG_CHECK_TIMEOUT_MS  how long each step may take (default 60000)
// Prints "svg_check: KEY=VALUE" lines; exits 0 when every check passed, 1 with a message.

import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const npmDir = resolve(process.env.PYFLARE_NPM_DIR || join(homedir(), '.cache/pyflare/npm'));
const require = createRequire(join(npmDir, 'node_modules', '.pyflare'));
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT_MS = Number(process.env.SVG_CHECK_TIMEOUT_MS) || 60000;
const GRAPH_WIDTH = 1180, PAD = 10;
const MATCH_FILL = 'rgb(230,0,230)';

class CheckError extends Error {}

function fail(msg) {
	throw new CheckError(msg);
}

function say(key, value) {
	console.log(`svg_check: ${key}=${value}`);
}

function serve(bytes) {
	const server = createServer((req, res) => {
		if (req.url.split('?')[0] !== '/flamegraph.svg') {
			res.writeHead(404).end();
			return;
		}
		res.writeHead(200, { 'Content-Type': 'image/svg+xml',
				     'Content-Length': bytes.length });
		res.end(bytes);
	});
	return new Promise((ok, ko) => {
		server.once('error', ko);
		server.listen(0, '127.0.0.1', () => ok(server));
	});
}

// Every frame as drawn: its label, times, rectangle and whether it shows.
const frames = (page) => page.evaluate(() => [...document.querySelectorAll('g.graph')]
	.flatMap((g, gi) => [...g.querySelectorAll(':scope > g.f')].map((e, i) => {
		const r = e.querySelector('rect');

		return {
			graph: gi, i, total: +g.getAttribute('data-ns'),
			label: e.querySelector('title').textContent.split('\n')[0],
			text: e.querySelector('text').textContent,
			x: +e.getAttribute('data-x'), w: +e.getAttribute('data-w'),
			rx: +r.getAttribute('x'), rw: +r.getAttribute('width'),
			y: +r.getAttribute('y'), fill: r.getAttribute('fill'),
			shown: getComputedStyle(e).display !== 'none',
			parent: e.classList.contains('parent'),
		};
	})));

// Widths are the frames' shares of their graph: to 0.01 px, as written.
function checkWidths(list, what) {
	let worst = 0;

	for (const f of list) {
		const wantW = GRAPH_WIDTH * f.w / f.total;
		const wantX = PAD + GRAPH_WIDTH * f.x / f.total;

		worst = Math.max(worst, Math.abs(f.rw - wantW), Math.abs(f.rx - wantX));
		if (Math.abs(f.rw - wantW) > 0.0051 || Math.abs(f.rx - wantX) > 0.0051)
			fail(`${what}: "${f.label}" is ${f.rw} px wide at ${f.rx}, its time says ` +
			     `${wantW.toFixed(3)} at ${wantX.toFixed(3)}`);
	}
	return worst;
}

// The frames drawn in the flame graph's region: how many pixels there are not background.
async function drawnFrames(page) {
	return page.evaluate(() => {
		let n = 0;

		for (const r of document.querySelectorAll('g.f rect')) {
			const b = r.getBoundingClientRect();

			if (b.width > 0 && b.height > 0)
				n++;
		}
		return n;
	});
}

let prompts = [];	// answers for the Search button's prompt, in order

async function search(page, term) {
	prompts.push(term);
	await page.click('#search');
	await page.waitForFunction(() => document.documentElement.hasAttribute('data-matched-ns'),
				   undefined, { timeout: TIMEOUT_MS })
		.catch(() => fail(`searching "${term}" reported nothing`));
	return page.evaluate(() => ({
		matchedNs: +document.documentElement.getAttribute('data-matched-ns'),
		allNs: +document.documentElement.getAttribute('data-ns'),
		frames: +document.documentElement.getAttribute('data-matched-frames'),
		text: document.getElementById('matched').textContent,
		button: document.getElementById('search').textContent,
	}));
}

async function checkReport(page, names, shotPath) {
	const name = names[0];

	if (!name)
		fail('report mode needs a function NAME');
	const all = await frames(page);
	const drawn = await drawnFrames(page);

	say('frames', all.length);
	say('graphs', new Set(all.map((f) => f.graph)).size);
	say('drawn', drawn);
	if (all.length < 10 || drawn !== all.length)
		fail(`${all.length} frames in the document, ${drawn} drawn`);
	say('worst_px', checkWidths(all, 'as written').toFixed(4));
	// every graph's base is its whole time
	for (const f of all)
		if (f.i === 0 && (f.w !== f.total || f.rw !== GRAPH_WIDTH))
			fail(`graph ${f.graph}'s base "${f.label}" is not its whole width`);
	const graphs = [...new Set(all.map((f) => f.graph))].map((g) => {
		const base = all.find((f) => f.graph === g && f.i === 0);

		return { pid: base.label, ns: base.total };
	});

	say('graph_ns', JSON.stringify(graphs));

	// hover: the details line names the frame
	const target = all.filter((f) => f.label.startsWith(name + ' '))
		.sort((a, b) => b.w - a.w)[0];

	if (!target)
		fail(`no frame "${name}" in the graph: ${[...new Set(all.map((f) => f.label))]
			.slice(0, 40).join(' | ')}`);
	const targetEl = page.locator('g.graph').nth(target.graph).locator(':scope > g.f')
		.nth(target.i);

	await targetEl.locator('rect').hover({ force: true });
	const details = await page.evaluate(() => document.getElementById('details').textContent);

	say('details', JSON.stringify(details));
	if (!details.startsWith(target.label) || !/\d+(\.\d+)? m?s, [\d.]+%/.test(details))
		fail(`hovering "${target.label}" shows "${details}"`);

	// search: the prompt's answer highlights the matches and reports their share
	const found = await search(page, name);
	const afterSearch = await frames(page);
	const lit = afterSearch.filter((f) => f.fill === MATCH_FILL);

	say('search', JSON.stringify(found));
	say('matched_ns', found.matchedNs);
	say('all_ns', found.allNs);
	if (!found.frames || lit.length !== found.frames ||
	    lit.some((f) => !f.label.includes(name)))
		fail(`searching "${name}": ${found.frames} matches, ${lit.length} highlighted`);
	const share = (100 * found.matchedNs / found.allNs).toFixed(1);

	if (!found.text.includes(`Matched: ${share}%`) || found.button !== 'Reset Search')
		fail(`the matched share says "${found.text}", want ${share}%`);
	await page.screenshot({ path: shotPath });
	say('shot', shotPath);
	await page.keyboard.press('Escape');
	if ((await frames(page)).some((f) => f.fill === MATCH_FILL))
		fail('Esc left frames highlighted');
	const none = await search(page, 'no such function, surely');

	if (none.frames !== 0 || none.matchedNs !== 0 || !none.text.includes('nothing'))
		fail(`a search for nothing matched: ${JSON.stringify(none)}`);
	await page.click('#search');	// "Reset Search"
	if (await page.evaluate(() => document.documentElement.hasAttribute('data-matched-ns')))
		fail('Reset Search left the search on');

	// zoom: the clicked frame fills the width, its callers too (faded), the rest of its graph
	// hides, every callee keeps its share of it; the other graphs do not move
	await targetEl.locator('rect').click({ force: true });
	await page.waitForTimeout(100);
	const zoomed = await frames(page);
	const z = zoomed.find((f) => f.graph === target.graph && f.i === target.i);

	say('zoomed', JSON.stringify({ label: z.label, rx: z.rx, rw: z.rw }));
	if (Math.abs(z.rw - GRAPH_WIDTH) > 0.011 || Math.abs(z.rx - PAD) > 0.011)
		fail(`the clicked frame is ${z.rw} px wide at ${z.rx} after zooming`);
	if (!(await page.evaluate(() => !document.getElementById('unzoom').classList
		.contains('hide'))))
		fail('no Reset Zoom after zooming');
	const inGraph = zoomed.filter((f) => f.graph === target.graph);
	const callers = inGraph.filter((f) => f.parent);
	let callees = 0;

	for (const f of inGraph) {
		const below = f.y < z.y && f.x >= z.x && f.x + f.w <= z.x + z.w && f.shown;

		if (f.parent && (Math.abs(f.rw - GRAPH_WIDTH) > 0.011 || f.y <= z.y))
			fail(`caller "${f.label}" is ${f.rw} px wide at row ${f.y} after zooming`);
		if (below) {
			callees++;
			const want = GRAPH_WIDTH * f.w / z.w;

			if (Math.abs(f.rw - want) > 0.011)
				fail(`callee "${f.label}" is ${f.rw} px wide, want ` +
				     want.toFixed(2));
		}
		if (!f.shown && f.i >= z.i && f.x >= z.x && f.x + f.w <= z.x + z.w && f.y < z.y)
			fail(`callee "${f.label}" was hidden by the zoom`);
	}
	const hidden = inGraph.filter((f) => !f.shown).length;

	say('zoom', JSON.stringify({ callers: callers.length, callees, hidden }));
	if (!callers.length)
		fail('the zoomed frame shows no caller');
	for (const f of zoomed)
		if (f.graph !== target.graph && (!f.shown || f.parent))
			fail('zooming one graph changed another');
	await page.screenshot({ path: shotPath.replace(/(\.png)?$/, '-zoom.png') });
	await page.click('#unzoom');
	const back = await frames(page);

	checkWidths(back, 'after Reset Zoom');
	if (back.some((f) => !f.shown || f.parent))
		fail('Reset Zoom left frames hidden or faded');
	// Esc zooms out too
	await targetEl.locator('rect').click({ force: true });
	await page.keyboard.press('Escape');
	if ((await frames(page)).some((f) => !f.shown))
		fail('Esc did not zoom out');
	// the search keys: Ctrl-F asks, as flamegraph.pl's does
	prompts.push(name);
	await page.keyboard.press('Control+f');
	await page.waitForFunction(() => document.documentElement.hasAttribute('data-matched-ns'),
				   undefined, { timeout: TIMEOUT_MS })
		.catch(() => fail('Ctrl-F did not search'));
}

async function checkHostile(page, names, shotPath) {
	const intruders = await page.evaluate(() => ({
		scripts: document.querySelectorAll('script').length,
		svgs: document.querySelectorAll('svg').length,
		foreign: document.querySelectorAll('img, iframe, object, embed, foreignObject, ' +
						   'b, i, a, image, use, animate, set').length,
		xhtml: document.getElementsByTagNameNS('http://www.w3.org/1999/xhtml', '*').length,
		handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes]
			.some((a) => a.name.toLowerCase().startsWith('on'))).length,
		pwned: window.pwned || 0,
	}));

	say('intruders', JSON.stringify(intruders));
	if (intruders.scripts !== 1 || intruders.svgs !== 1 || intruders.foreign ||
	    intruders.xhtml || intruders.handlers || intruders.pwned)
		fail(`names became markup: ${JSON.stringify(intruders)}`);
	const text = await page.evaluate(() => document.documentElement.textContent);

	for (const name of names)
		if (!text.includes(name))
			fail(`"${name}" is not shown as text`);
	const all = await frames(page);

	checkWidths(all, 'hostile');
	// search for a name made of markup, zoom into it: nothing runs
	const found = await search(page, names[0]);

	say('search', JSON.stringify(found));
	if (!found.frames)
		fail(`searching "${names[0]}" found nothing`);
	const f = all.find((x) => x.label.includes(names[0]));

	if (f)
		await page.locator('g.graph').nth(f.graph).locator(':scope > g.f').nth(f.i)
			.locator('rect').click({ force: true });
	await page.mouse.move(400, 300);
	await page.waitForTimeout(200);
	if (await page.evaluate(() => window.pwned ||
				document.querySelectorAll('script').length !== 1))
		fail('something ran while using the graph');
	await page.screenshot({ path: shotPath });
}

async function main() {
	const [mode, graphPath, shotPath, ...names] = process.argv.slice(2);

	if (!['report', 'hostile'].includes(mode) || !graphPath || !shotPath)
		fail('usage: node svg_check.mjs report|hostile GRAPH.svg SCREENSHOT.png [NAME...]');
	let playwright;

	try {
		playwright = require('playwright-core');
	} catch (e) {
		fail(`cannot load playwright-core from ${npmDir}/node_modules ` +
		     `(${e.code || e.message}); run \`make deps\` or set PYFLARE_NPM_DIR`);
	}
	const bytes = readFileSync(graphPath);

	say('bytes', bytes.length);
	const server = await serve(bytes);
	const url = `http://127.0.0.1:${server.address().port}/flamegraph.svg`;
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
			viewport: { width: 1220, height: 900 },
			timeout: TIMEOUT_MS,
		});
		// The graph must need nothing but itself.
		await context.route('**/*', (route) => {
			if (route.request().url() === url)
				return route.continue();
			problems.push('the graph made a request: ' + route.request().url());
			return route.abort();
		});
		const page = context.pages()[0] || await context.newPage();

		page.on('console', (m) => {
			if (m.type() === 'error' || m.type() === 'warning')
				problems.push(`console ${m.type()}: ${m.text()}`);
		});
		page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
		page.on('crash', () => problems.push('the page crashed'));
		page.on('dialog', (d) => {
			if (d.type() === 'prompt' && prompts.length) {
				d.accept(prompts.shift()).catch(() => {});
				return;
			}
			problems.push(`dialog (${d.type()}): ${d.message()}`);
			d.dismiss().catch(() => {});
		});

		const start = Date.now();

		await page.goto(url, { timeout: TIMEOUT_MS });
		await page.waitForFunction(() =>
			document.documentElement.getAttribute('data-ready') === '1', undefined,
			{ timeout: TIMEOUT_MS })
			.catch(() => fail('the script never became ready' +
					  (problems.length ? ': ' + problems[0] : '')));
		say('load_ms', Date.now() - start);
		say('script_ms', await page.evaluate(() =>
			document.documentElement.getAttribute('data-script-ms')));
		const root = await page.evaluate(() => document.documentElement.namespaceURI);

		if (root !== 'http://www.w3.org/2000/svg')
			fail(`the document is not an SVG document (${root})`);
		if (mode === 'report')
			await checkReport(page, names, shotPath);
		else
			await checkHostile(page, names, shotPath);
		if (!statSync(shotPath).size)
			fail(`the screenshot ${shotPath} is empty`);
		if (prompts.length)
			fail(`the Search button asked nothing (${prompts.length} answers left)`);
		if (problems.length)
			fail(`the graph reported problems:\n${problems.join('\n')}`);
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

	console.error(`svg_check: FAIL: ${msg}`);
	process.exit(1);
});
