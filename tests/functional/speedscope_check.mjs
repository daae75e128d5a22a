// SPDX-License-Identifier: MIT
// speedscope_check.mjs — checks a .speedscope.json against speedscope's schema, then opens it in
// the real speedscope app in headless Chromium and saves a screenshot.
//
// Usage: node speedscope_check.mjs PROFILE.speedscope.json SCREENSHOT.png
// Env:   PYFLARE_NPM_DIR  folder holding node_modules (default ~/.cache/pyflare/npm)
//        CHROMIUM         browser binary (default /usr/bin/chromium)
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
const TIMEOUT_MS = 60000;

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
			fail(`profile ${i}: ${p.samples.length} samples but ${p.weights.length} weights`);
		p.samples.forEach((stack, j) => {
			for (const f of stack)
				if (!Number.isInteger(f) || f < 0 || f >= nframes)
					fail(`profile ${i} sample ${j}: frame index ${f} outside 0..${nframes - 1}`);
		});
		if (p.weights.some((w) => !(w >= 0)))
			fail(`profile ${i}: a weight is negative or not a number`);
		if (!(p.endValue >= p.startValue))
			fail(`profile ${i}: endValue ${p.endValue} before startValue ${p.startValue}`);
	});
	if (doc.activeProfileIndex !== undefined &&
	    !(doc.activeProfileIndex >= 0 && doc.activeProfileIndex < doc.profiles.length))
		fail(`activeProfileIndex ${doc.activeProfileIndex} is not a profile`);
}

// The frame with the most time in a profile: the top row of speedscope's sandwich table.
function heaviestFrame(doc, profile) {
	const total = new Map();

	profile.samples.forEach((stack, j) => {
		for (const f of new Set(stack))
			total.set(f, (total.get(f) || 0) + profile.weights[j]);
	});
	let best = -1;
	for (const [f, w] of total)
		if (best < 0 || w > total.get(best))
			best = f;
	return best < 0 ? null : doc.shared.frames[best].name;
}

const MIME = {
	'.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
	'.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.wasm': 'application/wasm',
	'.txt': 'text/plain',
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
			const file = normalize(join(releaseDir, path === '/' ? 'index.html' : path));

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
		schema = JSON.parse(readFileSync(join(releaseDir, 'file-format-schema.json'), 'utf8'));
	} catch (e) {
		fail(`cannot read speedscope's file-format-schema.json in ${releaseDir}: ${e.message}`);
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
	const frameName = heaviestFrame(doc, active);
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
			problems.push(`blocked a request outside the test server: ${route.request().url()}`);
			return route.abort();
		});
		const page = context.pages()[0] || await context.newPage();

		page.on('console', (m) => {
			if (m.type() === 'error')
				problems.push(`console error: ${m.text()}`);
		});
		page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
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
			fail(`speedscope never showed the profile (title "${await page.title()}", ` +
			     `want "${wantTitle}")` + (problems.length ? '\n' + problems.join('\n') : ''));
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
		try {
			await page.waitForFunction((n) => document.body.textContent.includes(n),
						   frameName, { timeout: TIMEOUT_MS });
		} catch {
			fail(`the sandwich table does not list the heaviest frame "${frameName}"`);
		}
		await page.keyboard.press('2');	// left heavy: a flame graph of the active profile
		await page.waitForSelector('canvas', { timeout: TIMEOUT_MS });
		await page.waitForTimeout(1000);
		await page.screenshot({ path: shotPath });
		if (!statSync(shotPath).size)
			fail(`the screenshot ${shotPath} is empty`);
		if (problems.length)
			fail(`speedscope reported problems:\n${problems.join('\n')}`);
		console.log(`speedscope_check: ok: "${active.name}" shown with frame "${frameName}"; ` +
			    `screenshot ${shotPath}`);
	} finally {
		if (context)
			await context.close().catch(() => {});
		server.close();
		rmSync(userDataDir, { recursive: true, force: true });
	}
}

main().catch((e) => {
	console.error(`speedscope_check: FAIL: ${e instanceof CheckError ? e.message : e.stack || e}`);
	process.exit(1);
});
