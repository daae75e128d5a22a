// SPDX-License-Identifier: MIT
// flamegraph.js — what makes pyflare's SVG flame graph (user/render/render_svg.c) interactive,
// as flamegraph.pl's does: hover for details, click to zoom, search with the matched share.
//
// The SVG holds everything drawn; this only moves and recolours it. Each graph is a
// <g class="graph" data-ns="TOTAL"> of frames in preorder, each frame a
// <g class="f" data-x="OFFSET" data-w="TIME"> (nanoseconds, exact) holding its <title> (the
// label, then the details), <rect> and <text>. Names are only ever read and written as text.
(function () {
	'use strict';

	const started = performance.now();
	const svg = document.documentElement;
	const PAD = Number(svg.getAttribute('data-pad')) || 10;
	const WIDTH = Number(svg.getAttribute('data-graph-width')) || 1180;
	const FONT_SIZE = 12, FONT_WIDTH = 0.59;	// the label fitting render_svg.c does
	const MATCH_FILL = 'rgb(230,0,230)';
	const $ = (id) => document.getElementById(id);
	const details = $('details'), unzoomButton = $('unzoom'), searchButton = $('search');
	const matchedText = $('matched');
	const graphs = [], byElement = new Map();
	let allNs = 0, searchTerm = '';

	// "1.234 s", "12.3 ms", as render_svg.c writes times.
	function formatTime(ns) {
		if (ns >= 999500000)
			return (ns / 1e9).toFixed(3) + ' s';
		const ms = ns / 1e6;

		return ms.toFixed(ms >= 99.95 ? 0 : ms >= 9.995 ? 1 : 2) + ' ms';
	}

	// The label cut to @width pixels, as flamegraph.pl and render_svg.c cut it.
	function fitLabel(f, width) {
		const chars = Math.floor(width / (FONT_SIZE * FONT_WIDTH));

		if (chars < 3)
			return '';
		if (!f.chars)
			f.chars = Array.from(f.label);	// code points, as render_svg.c counts
		if (f.chars.length <= chars)
			return f.label;
		return f.chars.slice(0, chars - 2).join('') + '..';
	}

	function place(f, x, w) {
		f.rect.setAttribute('x', x.toFixed(2));
		f.rect.setAttribute('width', w.toFixed(2));
		if (f.text) {
			f.text.setAttribute('x', (x + 3).toFixed(2));
			f.text.textContent = fitLabel(f, w);
		}
	}

	function show(f, shown) {
		f.e.classList.toggle('hide', !shown);
	}

	// --- reading the graphs ------------------------------------------------------------------

	for (const g of document.querySelectorAll('g.graph')) {
		const graph = {
			e: g, total: Number(g.getAttribute('data-ns')), frames: [], zoom: null,
		};
		const open = [];

		for (const e of g.children) {
			if (e.getAttribute('class') !== 'f')
				continue;
			const [title, rect, text] = e.children;	// as render_svg.c writes them
			const lines = title.textContent.split('\n');
			const f = {
				e, rect, text, graph, chars: null,
				i: graph.frames.length, end: 0, parent: null,
				x: Number(e.getAttribute('data-x')),
				w: Number(e.getAttribute('data-w')),
				y: Number(rect.getAttribute('y')), fill: rect.getAttribute('fill'),
				label: lines[0], info: lines.slice(1).join('  '), match: false,
			};

			// Preorder, callers below their callees: a caller's row is further down.
			while (open.length && open[open.length - 1].y <= f.y)
				open.pop().end = f.i;
			f.parent = open.length ? open[open.length - 1] : null;
			open.push(f);
			graph.frames.push(f);
			byElement.set(e, f);
		}
		for (const f of open)
			f.end = graph.frames.length;
		allNs += graph.total;
		graphs.push(graph);
	}

	// --- zoom ------------------------------------------------------------------------------

	function zoom(z) {
		const graph = z.graph, scale = WIDTH / (z.w || 1), callers = new Set();

		for (let p = z.parent; p; p = p.parent)
			callers.add(p);
		for (const f of graph.frames) {
			if (f.i >= z.i && f.i < z.end) {
				show(f, true);
				f.e.classList.remove('parent');
				place(f, PAD + (f.x - z.x) * scale, f.w * scale);
			} else if (callers.has(f)) {
				show(f, true);
				f.e.classList.add('parent');
				place(f, PAD, WIDTH);
			} else {
				show(f, false);
			}
		}
		graph.zoom = z;
		graph.e.setAttribute('data-zoom', String(z.i));
		unzoomButton.classList.remove('hide');
	}

	function unzoom() {
		for (const graph of graphs) {
			if (!graph.zoom)
				continue;
			const scale = WIDTH / (graph.total || 1);

			for (const f of graph.frames) {
				show(f, true);
				f.e.classList.remove('parent');
				place(f, PAD + f.x * scale, f.w * scale);
			}
			graph.zoom = null;
			graph.e.removeAttribute('data-zoom');
		}
		unzoomButton.classList.add('hide');
	}

	const zoomed = () => graphs.some((g) => g.zoom);

	// --- search ----------------------------------------------------------------------------

	// A frame matches when its label holds the text, case-insensitively, or, when the text is a
	// regular expression, when the expression matches it (flamegraph.pl's searches).
	function matcher(term) {
		const lower = term.toLowerCase();
		let re = null;

		try {
			re = new RegExp(term, 'i');
		} catch (e) {
			re = null;
		}
		return (label) => label.toLowerCase().includes(lower) ||
			(re !== null && re.test(label));
	}

	function resetSearch() {
		for (const graph of graphs)
			for (const f of graph.frames) {
				if (f.match)
					f.rect.setAttribute('fill', f.fill);
				f.match = false;
			}
		searchTerm = '';
		matchedText.textContent = '';
		matchedText.classList.add('hide');
		searchButton.textContent = 'Search';
		svg.removeAttribute('data-matched-ns');
	}

	function search(term) {
		resetSearch();
		if (!term)
			return;
		const matches = matcher(term);
		let matchedNs = 0, n = 0;

		for (const graph of graphs) {
			const frames = graph.frames;

			for (const f of frames) {
				f.match = matches(f.label);
				if (f.match) {
					f.rect.setAttribute('fill', MATCH_FILL);
					n++;
				}
			}
			// The time under a match, each sample once: nested matches add nothing.
			for (let i = 0; i < frames.length;) {
				if (frames[i].match) {
					matchedNs += frames[i].w;
					i = frames[i].end;
				} else {
					i++;
				}
			}
		}
		searchTerm = term;
		const share = allNs ? 100 * matchedNs / allNs : 0;

		matchedText.textContent = n ? 'Matched: ' + share.toFixed(1) + '% (' +
			formatTime(matchedNs) + ')' : 'Matched: nothing';
		matchedText.classList.remove('hide');
		searchButton.textContent = 'Reset Search';
		svg.setAttribute('data-matched-ns', String(matchedNs));
		svg.setAttribute('data-matched-frames', String(n));
	}

	function askSearch() {
		if (searchTerm) {
			resetSearch();
			return;
		}
		const term = window.prompt('Search for a function or file (text or regular ' +
					   'expression, case-insensitive):', '');

		if (term !== null)
			search(term);
	}

	// --- events ----------------------------------------------------------------------------

	const frameOf = (target) => {
		const e = target && target.closest ? target.closest('g.f') : null;

		return e ? byElement.get(e) : undefined;
	};

	svg.addEventListener('mouseover', (ev) => {
		const f = frameOf(ev.target);

		details.textContent = f ? f.label + '  ' + f.info : ' ';
	});
	svg.addEventListener('mouseout', () => {
		details.textContent = ' ';
	});
	svg.addEventListener('click', (ev) => {
		if (ev.target.closest('#unzoom')) {
			unzoom();
			return;
		}
		if (ev.target.closest('#search')) {
			askSearch();
			return;
		}
		const f = frameOf(ev.target);

		if (f)
			zoom(f);
	});
	window.addEventListener('keydown', (ev) => {
		if ((ev.key === 'f' && (ev.ctrlKey || ev.metaKey)) ||
		    (ev.key === '/' && !ev.ctrlKey && !ev.metaKey && !ev.altKey)) {
			ev.preventDefault();
			if (searchTerm)
				resetSearch();
			askSearch();
		} else if (ev.key === 'Escape') {
			if (zoomed())
				unzoom();
			else if (searchTerm)
				resetSearch();
		}
	});

	// flamegraph.pl's links: file.svg?s=TERM opens with that search.
	const wanted = new URLSearchParams(window.location.search).get('s');

	if (wanted)
		search(wanted);
	svg.setAttribute('data-script-ms', String(Math.round(performance.now() - started)));
	svg.setAttribute('data-ready', '1');
})();
