// SPDX-License-Identifier: MIT
// speedscope_check.mjs — checks a .speedscope.json against speedscope's schema, then opens it in
// the real speedscope app in headless Chromium and saves a screenshot.
//
// Usage: node speedscope_check.mjs PROFILE.speedscope.json SCREENSHOT.png
// Env:   PYFLARE_NPM_DIR  folder holding node_modules (default ~/.cache/pyflare/npm)
//        CHROMIUM         browser binary (default /usr/bin/chromium)
//        SPEEDSCOPE_CHECK_TIMEOUT_MS  how long each step may take (default 60000)
// Exits 0 when the profile is valid and speedscope shows it; 1 with a message otherwise.

import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';

const npmDir = resolve(process.env.PYFLARE_NPM_DIR || join(homedir(), '.cache/pyflare/npm'));
const require = createRequire(join(npmDir, 'node_modules', '.pyflare'));
const releaseDir = join(npmDir, 'node_modules/speedscope/dist/release');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT_MS = Number(process.env.SPEEDSCOPE_CHECK_TIMEOUT_MS) || 60000;

class CheckError extends Error {}

// Thrown, not exited, so the browser and the temporary profile folder are cleaned up.
function fail(msg) {
	throw new CheckError(msg);
}

function loadModule(name) {
	try {
		return require(name);
	} catch (e) {
		fail(`cannot load ${name} from ${npmDir}/node_modules (${e.code || e.message}); ` +
		     'run `make deps` or set PYFLARE_NPM_DIR');
	}
}

// Checks what the schema cannot say but speedscope's importer throws on.
function checkConsistency(doc) {
	const nframes = doc.shared.frames.length;

	doc.profiles.forEach((p, i) => {
		if (p.type !== 'sampled')
			return;
		if (p.samples.length !== p.weights.length)
			fail(`profile ${i}: ${p.samples.length} samples but ` +
			     `${p.weights.length} weights`);
		p.samples.forEach((stack, j) => {
			for (const f of stack)
				if (!Number.isInteger(f) || f < 0 || f >= nframes)
					fail(`profile ${i} sample ${j}: frame index ${f} ` +
					     `outside 0..${nframes - 1}`);
		});
		if (p.weights.some((w) => !(w >= 0)))
			fail(`profile ${i}: a weight is negative or not a number`);
		if (!(p.endValue >= p.startValue))
			fail(`profile ${i}: endValue ${p.endValue} before ` +
			     `startValue ${p.startValue}`);
	});
	if (doc.activeProfileIndex !== undefined &&
	    !(doc.activeProfileIndex >= 0 && doc.activeProfileIndex < doc.profiles.length))
		fail(`activeProfileIndex ${doc.activeProfileIndex} is not a profile`);
}

// The frames with the most self time in a profile: the top rows of speedscope's sandwich table,
// which sorts by self time. Ties make the order among equals unknown, so all of them count.
// Self time per frame: from samples (sampled profiles) or open/close events (evented).
function selfTimes(profile) {
	const self = new Map();

	if (profile.type === 'evented') {
		const open = [];
		let last = profile.startValue;

		for (const ev of profile.events) {
			const top = open[open.length - 1];

			if (top !== undefined)
				self.set(top, (self.get(top) || 0) + ev.at - last);
			last = ev.at;
			if (ev.type === 'O')
				open.push(ev.frame);
			else
				open.pop();
		}
		return self;
	}
	profile.samples.forEach((stack, j) => {
		const leaf = stack[stack.length - 1];

		if (leaf !== undefined)
			self.set(leaf, (self.get(leaf) || 0) + profile.weights[j]);
	});
	return self;
}

function heaviestFrames(doc, profile) {
	const self = selfTimes(profile);
	const max = [...self.values()].reduce((a, b) => Math.max(a, b), 0);

	return [...self].filter(([, w]) => w === max).map(([f]) => doc.shared.frames[f].name);
}

const MIME = {
	'.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css',
	'.json': 'application/json', '.png': 'image/png', '.ico': 'image/x-icon',
	'.woff2': 'font/woff2', '.wasm': 'application/wasm', '.txt': 'text/plain',
};

// Serves speedscope's release folder, and the profile at /profile.speedscope.json.
function serve(profileBytes) {
	const server = createServer((req, res) => {
		const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
		let body;
		let type;

		if (path === '/profile.speedscope.json') {
			body = profileBytes;
			type = 'application/json';
		} else {
			const rel = path === '/' ? 'index.html' : path;
			const file = normalize(join(releaseDir, rel));

			if (!file.startsWith(releaseDir + sep)) {
				res.writeHead(403).end();
				return;
			}
			try {
				body = readFileSync(file);
			} catch {
				res.writeHead(404).end();
				return;
			}
			type = MIME[extname(file)] || 'application/octet-stream';
		}
		res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length });
		res.end(body);
	});
	return new Promise((ok, ko) => {
		server.once('error', ko);
		server.listen(0, '127.0.0.1', () => ok(server));
	});
}

async function main() {
	const [profilePath, shotPath] = process.argv.slice(2);

	if (!profilePath || !shotPath)
		fail('usage: node speedscope_check.mjs PROFILE.speedscope.json SCREENSHOT.png');

	// 1. The schema, with speedscope's own copy of it.
	const Ajv = loadModule('ajv');
	const { chromium } = loadModule('playwright-core');
	let bytes;
	let doc;
	let schema;

	try {
		bytes = readFileSync(profilePath);
	} catch (e) {
		fail(`cannot read ${profilePath}: ${e.message}`);
	}
	try {
		doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
	} catch (e) {
		fail(`${profilePath} is not valid UTF-8 JSON: ${e.message}`);
	}
	try {
		const schemaPath = join(releaseDir, 'file-format-schema.json');

		schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
	} catch (e) {
		fail(`cannot read speedscope's file-format-schema.json: ${e.message}`);
	}
	const ajv = new (Ajv.default || Ajv)({ allErrors: true, strict: false });
	const validate = ajv.compile(schema);

	if (!validate(doc))
		fail(`${profilePath} does not match file-format-schema.json:\n` +
		     ajv.errorsText(validate.errors, { separator: '\n' }));
	checkConsistency(doc);
	if (!doc.profiles.length)
		fail('the file has no profiles: speedscope would refuse it as empty');
	const active = doc.profiles[doc.activeProfileIndex || 0];
	const frameNames = heaviestFrames(doc, active);
	console.log(`speedscope_check: schema ok: ${doc.profiles.length} profiles, ` +
		    `${doc.shared.frames.length} frames`);

	// 2. The real app, in a browser that can reach nothing but our server.
	const server = await serve(bytes);
	const origin = `http://127.0.0.1:${server.address().port}`;
	const userDataDir = mkdtempSync(join(tmpdir(), 'pyflare-chromium-'));
	const problems = [];
	let context;

	try {
		context = await chromium.launchPersistentContext(userDataDir, {
			executablePath: chromiumPath,
			headless: true,
			args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
			       '--no-first-run', '--disable-background-networking',
			       '--disable-component-update', '--disable-sync',
			       '--enable-unsafe-swiftshader'],
			viewport: { width: 1280, height: 720 },
			timeout: TIMEOUT_MS,
		});
		await context.route('**/*', (route) => {
			if (route.request().url().startsWith(origin + '/'))
				return route.continue();
			problems.push('blocked a request outside the test server: ' +
				      route.request().url());
			return route.abort();
		});
		const page = context.pages()[0] || await context.newPage();

		page.on('console', (m) => {
			if (m.type() === 'error')
				problems.push(`console error: ${m.text()}`);
		});
		page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
		page.on('crash', () => problems.push('the page crashed (out of memory?)'));
		page.on('dialog', (d) => {
			problems.push(`dialog: ${d.message()}`);
			d.dismiss().catch(() => {});
		});

		const url = `${origin}/index.html#profileURL=` +
			    encodeURIComponent(`${origin}/profile.speedscope.json`);
		await page.goto(url, { timeout: TIMEOUT_MS });
		// speedscope sets the title once the import has finished.
		const wantTitle = `${doc.name ?? ''} - speedscope`;
		try {
			await page.waitForFunction((t) => document.title === t, wantTitle,
						   { timeout: TIMEOUT_MS });
		} catch {
			const title = await page.title();

			problems.unshift(`speedscope never showed the profile (title "${title}", ` +
					 `want "${wantTitle}")`);
			fail(problems.join('\n'));
		}
		// The toolbar names the active profile, e.g. "4242 python3 / 4242 MainThread".
		try {
			await page.waitForFunction((n) => document.body.textContent.includes(n),
						   active.name, { timeout: TIMEOUT_MS });
		} catch {
			fail(`the toolbar does not show the profile name "${active.name}"`);
		}
		// Flame charts are canvases; the sandwich view (key 3) lists frames as DOM text.
		await page.keyboard.press('3');
		let frameName;

		try {
			const found = await page.waitForFunction(
				(names) => names.find((n) => document.body.textContent.includes(n)),
				frameNames, { timeout: TIMEOUT_MS });

			frameName = await found.jsonValue();
		} catch {
			fail('the sandwich table lists none of the frames with the most self time: ' +
			     JSON.stringify(frameNames.slice(0, 5)));
		}
		await page.keyboard.press('2');	// left heavy: a flame graph of the active profile
		await page.waitForSelector('canvas', { timeout: TIMEOUT_MS });
		await page.waitForTimeout(1000);
		await page.screenshot({ path: shotPath });
		if (!statSync(shotPath).size)
			fail(`the screenshot ${shotPath} is empty`);
		if (problems.length)
			fail(`speedscope reported problems:\n${problems.join('\n')}`);
		console.log(`speedscope_check: ok: "${active.name}" shown with frame ` +
			    `"${frameName}"; screenshot ${shotPath}`);
	} catch (e) {
		// What the page looked like helps more than any message.
		if (context && context.pages().length)
			await context.pages()[0].screenshot({ path: shotPath }).catch(() => {});
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

	console.error(`speedscope_check: FAIL: ${msg}`);
	process.exit(1);
});
