// SPDX-License-Identifier: MIT
// report.js — pyflare's HTML viewer: builds call trees from the embedded data and draws the
// header, the timeline, the flame graph and the call tree. Names come from the profiled
// processes, so they reach the page only through textContent and canvas text, never as markup.
'use strict';

(function () {
	const $ = (id) => document.getElementById(id);
	const t0 = performance.now();

	const KIND_ROOT = 0, KIND_PROC = 1, KIND_THREAD = 2, KIND_FRAME = 3;
	const FRAME_PYTHON = 0, FRAME_WAIT = 4;
	const ROW_H = 18;		// flame graph row, CSS px
	const TREE_ROW_H = 22;		// must match .row height in report.css
	const CHILD_LIMIT = 100;	// tree rows under one parent before a "more" row
	const EXPAND_LIMIT = 5000;	// rows "expand everything below" may open at once

	let D;
	try {
		D = JSON.parse($('pyflare-data').textContent);
	} catch (e) {
		$('title').textContent = 'This report is damaged: ' + e.message;
		return;
	}

	// --- the data ----------------------------------------------------------------------------

	const meta = D.meta || {};
	const S = D.strings || [];
	const str = (i) => (typeof S[i] === 'string' ? S[i] : '');
	const NF = (D.frames || []).length >> 2;
	const fName = new Int32Array(NF), fFile = new Int32Array(NF);
	const fLine = new Int32Array(NF), fKind = new Uint8Array(NF);
	for (let i = 0; i < NF; i++) {
		fName[i] = D.frames[4 * i];
		fFile[i] = D.frames[4 * i + 1];
		fLine[i] = D.frames[4 * i + 2];
		fKind[i] = D.frames[4 * i + 3];
	}
	// Stack node 0 is the empty stack; node N = (parent, frame) with parent < N.
	const NS = ((D.stacks || []).length >> 1) + 1;
	const sParent = new Int32Array(NS), sFrame = new Int32Array(NS);
	let maxStackDepth = 0;
	{
		const depth = new Int32Array(NS);

		for (let i = 1; i < NS; i++) {
			const p = D.stacks[2 * i - 2], f = D.stacks[2 * i - 1];

			sParent[i] = p >= 0 && p < i ? p : 0;
			sFrame[i] = f >= 0 && f < NF ? f : 0;
			depth[i] = depth[sParent[i]] + 1;
			if (depth[i] > maxStackDepth)
				maxStackDepth = depth[i];
		}
	}
	const NB = Math.max(1, meta.nbuckets | 0);
	const unitS = (meta.unit_ns || 1) / 1e9;
	const bucketUnits = (meta.bucket_ns || 1) / (meta.unit_ns || 1);

	const procs = (D.processes || []).map((p, index) => {
		const libOf = new Map();
		const h = p.hidden || [];

		for (let i = 0; i + 1 < h.length; i += 2)
			if (h[i] >= 0 && h[i] < NF)
				libOf.set(h[i], h[i + 1]);
		// a group of processes (--group-by) lists its members' PIDs
		const members = Array.isArray(p.members) && p.members.length > 1 ? p.members : null;

		return {
			index, pid: p.pid, comm: p.comm || '', cmdline: p.cmdline || '',
			exe: p.exe || '', python: p.python || '', members, libOf, mask: null,
			threads: [], total: 0,
		};
	});

	// Per thread: groups of entries, one group per time bucket, sorted by bucket.
	const threads = (D.threads || []).map((t, index) => {
		const b = t.buckets || [];
		let ng = 0, ne = 0;

		for (let i = 0; i + 1 < b.length; i += 2 + 2 * (b[i + 1] | 0)) {
			ng++;
			ne += b[i + 1] | 0;
		}
		const gB = new Int32Array(ng), gStart = new Int32Array(ng + 1);
		const gW = new Float64Array(ng);
		const eS = new Int32Array(ne), eW = new Float64Array(ne);
		let bucket = 0, e = 0, total = 0;

		for (let g = 0, i = 0; g < ng; g++) {
			const n = b[i + 1] | 0;
			let w = 0;

			bucket += b[i];
			gB[g] = Math.min(bucket, NB - 1);
			gStart[g] = e;
			i += 2;
			for (let k = 0; k < n && e < ne; k++, i += 2, e++) {
				const s = b[i];

				eS[e] = s >= 0 && s < NS ? s : 0;
				eW[e] = b[i + 1] > 0 ? b[i + 1] : 0;
				w += eW[e];
			}
			gW[g] = w;
			total += w;
		}
		gStart[ng] = e;
		const proc = procs[t.process] ? t.process : 0;
		const th = { index, proc, tid: t.tid, name: t.name || '', merged: t.merged | 0, ng,
			     ne, gB, gStart, gW, eS, eW, total };

		if (procs[proc]) {
			procs[proc].threads.push(th);
			procs[proc].total += total;
		}
		return th;
	});
	const grandTotal = threads.reduce((a, t) => a + t.total, 0);
	const anyLib = procs.some((p) => p.libOf.size > 0);
	const anyWait = (D.frames || []).some((v, i) => i % 4 === 3 && v === FRAME_WAIT);
	const anySplit = procs.some((p) => p.threads.filter((t) => t.ne).length > 1);

	// Which frames are library code in process p (whether or not they are hidden).
	function libMask(p) {
		if (!p.mask) {
			p.mask = new Uint8Array(NF);
			for (const f of p.libOf.keys())
				p.mask[f] = 1;
		}
		return p.mask;
	}

	// --- formatting --------------------------------------------------------------------------

	function fmtSeconds(s) {
		if (s >= 100)
			return s.toFixed(0) + ' s';
		if (s >= 10)
			return s.toFixed(1) + ' s';
		if (s >= 1)
			return s.toFixed(2) + ' s';
		if (s >= 0.01)
			return (s * 1e3).toFixed(0) + ' ms';
		if (s >= 0.001)
			return (s * 1e3).toFixed(1) + ' ms';
		if (s > 0)
			return (s * 1e6).toFixed(0) + ' µs';
		return '0 s';
	}
	const fmtTime = (units) => fmtSeconds(units * unitS);
	const fmtInt = (n) => Number(n || 0).toLocaleString('en-US');
	const fmtPct = (part, whole) => (whole > 0 ? (100 * part / whole).toFixed(1) : '0.0') + '%';

	function el(tag, cls, text) {
		const e = document.createElement(tag);

		if (cls)
			e.className = cls;
		if (text !== undefined)
			e.textContent = text;
		return e;
	}

	function cut(s, n) {
		return s.length > n ? s.slice(0, n - 1) + '…' : s;
	}

	// "4242 python3", or a group's "3 processes (4242, 4243, 4244) python3"
	const MEMBERS_SHOWN = 6;
	const procLabel = (p) => (p.members ?
		p.members.length + ' processes (' + p.members.slice(0, MEMBERS_SHOWN).join(', ') +
		(p.members.length > MEMBERS_SHOWN ? ', …' : '') + ') ' : p.pid + ' ') +
		(p.comm || '?');
	// "Thread 4242 MainThread", or "3 threads MainThread" for the threads of a group
	const threadLabel = (t) => (t.merged > 1 ? t.merged + ' threads' : 'Thread ' + t.tid) +
		(t.name ? ' ' + t.name : '');

	// --- state -------------------------------------------------------------------------------

	const st = {
		proc: -1,		// process index, -1 = all
		thread: -1,		// thread index, -1 = all threads of the process
		query: '',		// lower case
		hideLib: !!meta.hide_default && anyLib,
		merge: false,
		flame: false,		// false: icicle (callers on top)
		range: null,		// [first bucket, last bucket + 1) or null
	};
	const sampledProcs = procs.filter((p) => p.total > 0);

	if (sampledProcs.length === 1)
		st.proc = sampledProcs[0].index;

	// --- the call tree -----------------------------------------------------------------------

	// A tree as parallel arrays; node 0 is the root, parents are created before children.
	/*
	 * A tree as parallel arrays; node 0 is the root, parents are created before children.
	 *
	 * Building needs no lookup while one stack node makes one tree node: (parent, frame) is
	 * unique among stack nodes. Only a node that several stack nodes lead to (library frames
	 * folded into it, or a child of such a node) is "shared": its children are then found
	 * through a hash table, which holds exactly the children of shared nodes.
	 */
	class Tree {
		constructor() {
			this.n = 0;
			this.cap = 0;
			this.hidden = new Map();	// node -> Set of frames folded into it
			this.slots = new Int32Array(1 << 12);	// node ids (0 = empty), hashed
			this.nslots = 0;
			this.grow(4096);
		}

		grow(cap) {
			const copy = (Type, old) => {
				const a = new Type(cap);

				if (old)
					a.set(old.subarray(0, this.n));
				return a;
			};
			this.parent = copy(Int32Array, this.parent);
			this.kind = copy(Uint8Array, this.kind);
			this.ref = copy(Int32Array, this.ref);
			this.proc = copy(Int32Array, this.proc);
			this.depth = copy(Int32Array, this.depth);
			this.lib = copy(Uint8Array, this.lib);
			this.self = copy(Float64Array, this.self);
			this.shared = copy(Uint8Array, this.shared);
			this.first = copy(Int32Array, this.first);	// children, while building
			this.next = copy(Int32Array, this.next);
			this.cap = cap;
		}

		add(parent, kind, ref, proc) {
			if (this.n === this.cap)
				this.grow(this.cap * 2);
			const i = this.n++;

			this.parent[i] = parent;
			this.kind[i] = kind;
			this.ref[i] = ref;
			this.proc[i] = proc;
			this.depth[i] = parent >= 0 ? this.depth[parent] + 1 : 0;
			this.lib[i] = kind === KIND_FRAME && procs[proc] ?
				libMask(procs[proc])[ref] : 0;
			this.self[i] = 0;
			this.shared[i] = 0;
			this.first[i] = 0;
			if (parent >= 0) {
				this.next[i] = this.first[parent];
				this.first[parent] = i;
			}
			return i;
		}

		// The slot of (d, f): where its node is, or the empty slot where it goes.
		slot(d, f) {
			const mask = this.slots.length - 1;
			let h = Math.imul(d, 0x9e3779b1) ^ Math.imul(f + 1, 0x85ebca6b);

			h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
			for (h = (h ^ (h >>> 13)) & mask; ; h = (h + 1) & mask) {
				const v = this.slots[h];

				if (!v || (this.parent[v] === d && this.ref[v] === f))
					return h;
			}
		}

		insert(v) {
			this.slots[this.slot(this.parent[v], this.ref[v])] = v;
			if (++this.nslots * 2 > this.slots.length) {
				const old = this.slots;

				this.slots = new Int32Array(old.length * 2);
				for (const x of old) {
					if (x) {
						const h = this.slot(this.parent[x], this.ref[x]);

						this.slots[h] = x;
					}
				}
			}
		}

		share(d) {
			if (this.shared[d])
				return;
			this.shared[d] = 1;
			for (let c = this.first[d]; c; c = this.next[c])
				if (this.kind[c] === KIND_FRAME)
					this.insert(c);
		}

		// Folds frame @f into node @d.
		fold(d, f) {
			let set = this.hidden.get(d);

			if (!set)
				this.hidden.set(d, (set = new Set()));
			set.add(f);
			this.share(d);
		}

		// The child of @d for frame @f, made if new.
		child(d, f) {
			if (!this.shared[d])
				return this.add(d, KIND_FRAME, f, this.proc[d]);
			const v = this.slots[this.slot(d, f)];

			if (v) {
				this.share(v);	// a second stack node leads here
				return v;
			}
			const c = this.add(d, KIND_FRAME, f, this.proc[d]);

			this.insert(c);
			return c;
		}

		// Totals, depth and children sorted largest first.
		finish() {
			const n = this.n;

			this.total = new Float64Array(n);
			this.total.set(this.self.subarray(0, n));
			for (let i = n - 1; i > 0; i--)
				this.total[this.parent[i]] += this.total[i];
			this.cstart = new Int32Array(n + 1);
			this.ccount = new Int32Array(n);
			for (let i = 1; i < n; i++)
				this.ccount[this.parent[i]]++;
			for (let i = 0; i < n; i++)
				this.cstart[i + 1] = this.cstart[i] + this.ccount[i];
			this.children = new Int32Array(Math.max(n - 1, 0));
			const fill = new Int32Array(n);

			for (let i = 1; i < n; i++) {
				const p = this.parent[i];

				this.children[this.cstart[p] + fill[p]++] = i;
			}
			const total = this.total;

			for (let i = 0; i < n; i++) {
				const from = this.cstart[i], to = from + this.ccount[i];

				if (to - from > 1)
					this.children.subarray(from, to).sort((a, b) =>
						total[b] - total[a] || a - b);
			}
			this.maxDepth = 0;
			for (let i = 0; i < n; i++)
				if (this.depth[i] > this.maxDepth)
					this.maxDepth = this.depth[i];
			this.keys = new Array(n);
		}
	}

	// Per stack node, its tree node in the current context (valid while memoStamp matches).
	const memoStamp = new Int32Array(NS), memoNode = new Int32Array(NS);
	const path = new Int32Array(maxStackDepth + 2);
	let stamp = 0;

	/*
	 * The tree node of stack node s under context node ctx. With library frames hidden, a
	 * hidden frame called by a hidden frame folds into the node above it: the call into a
	 * library stays visible, its insides do not ("[N frames hidden]").
	 */
	function place(T, ctx, s, hidden) {
		let k = 0;

		while (s !== 0 && memoStamp[s] !== stamp) {
			path[k++] = s;
			s = sParent[s];
		}
		let d = s === 0 ? ctx : memoNode[s];

		while (k--) {
			const n = path[k], f = sFrame[n], p = sParent[n];

			if (hidden && hidden[f] && p !== 0 && hidden[sFrame[p]])
				T.fold(d, f);
			else
				d = T.child(d, f);
			memoStamp[n] = stamp;
			memoNode[n] = d;
		}
		return d;
	}

	function lowerBound(a, n, v) {
		let lo = 0, hi = n;

		while (lo < hi) {
			const mid = (lo + hi) >> 1;

			if (a[mid] < v)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo;
	}

	function buildTree() {
		const T = new Tree();
		const root = T.add(-1, KIND_ROOT, 0, -1);
		const b0 = st.range ? st.range[0] : 0, b1 = st.range ? st.range[1] : NB;

		for (const p of procs) {
			if (st.proc >= 0 && p.index !== st.proc)
				continue;
			const ths = p.threads.filter((t) => t.ne &&
						     (st.thread < 0 || t.index === st.thread));
			const split = !st.merge && ths.length > 1;
			const hidden = st.hideLib ? libMask(p) : null;
			let pnode = -1, ctx = -1;

			for (const t of ths) {
				let g = lowerBound(t.gB, t.ng, b0);

				if (g >= t.ng || t.gB[g] >= b1)
					continue;
				if (pnode < 0) {
					pnode = T.add(root, KIND_PROC, p.index, p.index);
					ctx = pnode;
					stamp++;
				}
				if (split) {
					ctx = T.add(pnode, KIND_THREAD, t.index, p.index);
					stamp++;
				}
				for (; g < t.ng && t.gB[g] < b1; g++) {
					for (let e = t.gStart[g]; e < t.gStart[g + 1]; e++) {
						// place() may grow the arrays: T.self only after it
						const d = place(T, ctx, t.eS[e], hidden);

						T.self[d] += t.eW[e];
					}
				}
			}
		}
		T.finish();
		return T;
	}

	let T = null;

	// A node's identity across rebuilds: the path of (kind, ref) from the root.
	function nodeKey(i) {
		if (i <= 0)
			return '';
		let k = T.keys[i];

		if (k === undefined) {
			const kind = T.kind[i];
			const part = kind === KIND_FRAME ? String(T.ref[i]) :
				(kind === KIND_PROC ? 'p' : 't') + T.ref[i];

			k = T.keys[i] = nodeKey(T.parent[i]) + '/' + part;
		}
		return k;
	}

	// The node of @key in the current tree, or its deepest ancestor there.
	function findKey(key) {
		let d = 0;

		for (const part of key.split('/').slice(1)) {
			const kind = part[0] === 'p' ? KIND_PROC : part[0] === 't' ? KIND_THREAD :
				KIND_FRAME;
			const ref = kind === KIND_FRAME ? +part : +part.slice(1);
			let next = -1;

			for (let c = T.cstart[d]; c < T.cstart[d] + T.ccount[d] && next < 0; c++) {
				const x = T.children[c];

				if (T.kind[x] === kind && T.ref[x] === ref)
					next = x;
			}
			if (next < 0)
				break;
			d = next;
		}
		return d;
	}

	function nodeName(i) {
		switch (T.kind[i]) {
		case KIND_ROOT:
			return 'all';
		case KIND_PROC:
			return procLabel(procs[T.ref[i]]);
		case KIND_THREAD:
			return threadLabel(threads[T.ref[i]]);
		default:
			return str(fName[T.ref[i]]);
		}
	}

	function nodeLoc(i) {
		if (T.kind[i] === KIND_PROC) {
			const p = procs[T.ref[i]];

			return p.cmdline + (p.python ? '  (Python ' + p.python + ')' : '');
		}
		if (T.kind[i] !== KIND_FRAME || fKind[T.ref[i]] !== FRAME_PYTHON)
			return '';
		const f = T.ref[i];

		return str(fFile[f]) + (fLine[f] ? ':' + fLine[f] : '');
	}

	// "[3 frames hidden] json, threading" for a node that library frames fold into.
	function hiddenNote(i) {
		const set = T.hidden.get(i);

		if (!set)
			return '';
		const p = procs[T.proc[i]], libs = [];

		for (const f of set) {
			const lib = p ? str(p.libOf.get(f)) : '';

			if (lib && !libs.includes(lib))
				libs.push(lib);
		}
		const more = libs.length > 4 ? ', …' : '';

		return '[' + set.size + (set.size === 1 ? ' frame' : ' frames') + ' hidden]' +
		       (libs.length ? '  ' + libs.slice(0, 4).join(', ') + more : '');
	}

	// --- search ------------------------------------------------------------------------------

	let frameText = null;		// per frame "name file:line" in lower case, when needed
	let frameMatch = new Uint8Array(NF);
	let stackMatch = new Uint8Array(NS);
	let nodeMatch = new Uint8Array(0);
	let matchCount = 0, matchTotal = 0;

	function matchFrames() {
		frameMatch = new Uint8Array(NF);
		stackMatch = new Uint8Array(NS);
		if (!st.query)
			return;
		if (!frameText) {
			frameText = new Array(NF);
			for (let f = 0; f < NF; f++)
				frameText[f] = (str(fName[f]) + ' ' + str(fFile[f]) + ':' +
						fLine[f]).toLowerCase();
		}
		for (let f = 0; f < NF; f++)
			frameMatch[f] = frameText[f].includes(st.query) ? 1 : 0;
		for (let s = 1; s < NS; s++)
			stackMatch[s] = stackMatch[sParent[s]] | frameMatch[sFrame[s]];
	}

	function matchNodes() {
		nodeMatch = new Uint8Array(T.n);
		matchCount = 0;
		matchTotal = 0;
		if (!st.query)
			return;
		const under = new Uint8Array(T.n);

		for (let i = 1; i < T.n; i++) {
			const kind = T.kind[i];
			let m;

			if (kind === KIND_FRAME)
				m = frameMatch[T.ref[i]];
			else
				m = nodeName(i).toLowerCase().includes(st.query) ? 1 : 0;
			// A frame folded away still matches: its caller stands for it.
			if (!m && T.hidden.size && T.hidden.has(i))
				for (const f of T.hidden.get(i))
					m |= frameMatch[f];
			nodeMatch[i] = m;
			under[i] = under[T.parent[i]] | m;
			if (m) {
				matchCount++;
				if (!under[T.parent[i]])
					matchTotal += T.total[i];
			}
		}
	}

	// --- the header --------------------------------------------------------------------------

	function renderHeader() {
		const target = meta.target || 'pyflare profile';

		$('title').textContent = target;
		document.title = 'pyflare: ' + target;

		const sum = $('summary');
		const add = (parent, label, value) => {
			if (parent.childNodes.length)
				parent.appendChild(document.createTextNode(' · '));
			if (label)
				parent.appendChild(document.createTextNode(label + ' '));
			parent.appendChild(el('b', '', value));
		};
		sum.textContent = '';
		if (meta.start_ms)
			add(sum, 'Recorded', new Date(meta.start_ms).toLocaleString());
		add(sum, 'Duration', fmtSeconds((meta.duration_ns || 0) / 1e9));
		add(sum, 'Samples', fmtInt(meta.samples));
		add(sum, 'Sampled time', fmtTime(grandTotal));
		if (meta.group_by && meta.group_by !== 'process')
			add(sum, 'Grouped by', meta.group_by);
		add(sum, '', (meta.rate_hz || '?') + ' Hz ' + (meta.clock || 'timer'));
		sum.appendChild(document.createTextNode(' on ' + fmtInt(meta.ncpus) + ' CPUs · ' +
			(meta.mode || 'cpu') + ' · ' + (meta.granularity || 'function') +
			' granularity · pyflare ' + (meta.pyflare || '')));

		const h = D.health || {}, hl = $('health');
		const part = (n, label, level) => {
			if (hl.childNodes.length > 1)
				hl.appendChild(document.createTextNode(' · '));
			hl.appendChild(el('span', n > 0 && level ? level : '',
					  fmtInt(n) + ' ' + label));
		};
		// samples taken = shown + lost + no thread state + no Python frame (session.h)
		hl.textContent = 'Health: ' + fmtInt(h.samples) + ' samples taken = ' +
			fmtInt(h.shown) + ' shown + ';
		hl.title = D.health_legend || '';
		hl.appendChild(el('span', h.lost > 0 ? 'bad' : '', fmtInt(h.lost) + ' lost'));
		hl.appendChild(document.createTextNode(' + ' + fmtInt(h.no_thread_state) +
			' no thread state + ' + fmtInt(h.no_python_frame) + ' no Python frame'));
		part(h.truncated, 'truncated', 'warn');
		part(h.unreadable, 'cut short', 'warn');
		part(h.unsymbolized, 'frames unsymbolized (<unsymbolized code 0x…>)', 'warn');
		part(h.attached, h.attached === 1 ? 'process attached' : 'processes attached');
		part(h.refused, 'refused', 'warn');

		const refusals = D.refusals || [];

		if (refusals.length) {
			const box = $('refusals'), list = box.querySelector('ul');

			box.hidden = false;
			box.querySelector('summary').textContent = refusals.length +
				(refusals.length === 1 ? ' process' : ' processes') +
				' not profiled';
			for (const r of refusals)
				list.appendChild(el('li', '', r.pid + ' ' + (r.comm || '?') + ': ' +
						    (r.reason || '')));
		}
	}

	// --- the toolbar -------------------------------------------------------------------------

	function fillProcesses() {
		const sel = $('process');

		sel.textContent = '';
		sel.appendChild(new Option('All processes (' + sampledProcs.length + ')', '-1'));
		const sorted = procs.slice().sort((a, b) => b.total - a.total || a.index - b.index);

		for (const p of sorted) {
			const time = p.total ? '  (' + fmtTime(p.total) + ')' : '  (no samples)';
			const o = new Option(cut(procLabel(p) + ' — ' + p.cmdline, 90) + time,
					     String(p.index));

			o.disabled = !p.total;
			sel.appendChild(o);
		}
		sel.value = String(st.proc);
	}

	function fillThreads() {
		const sel = $('thread');

		sel.textContent = '';
		sel.appendChild(new Option('All threads', '-1'));
		if (st.proc >= 0) {
			const ths = procs[st.proc].threads.filter((t) => t.total > 0)
				.sort((a, b) => b.total - a.total || a.index - b.index);

			for (const t of ths) {
				const label = cut(threadLabel(t), 60) + '  (' + fmtTime(t.total) +
					')';

				sel.appendChild(new Option(label, String(t.index)));
			}
		}
		sel.disabled = st.proc < 0;
		sel.value = String(st.thread);
	}

	function syncControls() {
		$('process').value = String(st.proc);
		$('thread').value = String(st.thread);
		$('hide-lib').checked = st.hideLib;
		$('merge-threads').checked = st.merge;
		$('orient').textContent = st.flame ? 'Flame' : 'Icicle';
		$('hide-lib').disabled = !anyLib;
		$('hide-lib').parentNode.classList.toggle('disabled', !anyLib);
		if (!anyLib)
			$('hide-lib').parentNode.title = 'No library code was sampled';
		$('merge-threads').disabled = !anySplit;
		$('merge-threads').parentNode.classList.toggle('disabled', !anySplit);
	}

	// --- drawing helpers ---------------------------------------------------------------------

	let css = null;

	function colors() {
		if (!css) {
			const cs = getComputedStyle(document.documentElement);
			const v = (name) => cs.getPropertyValue(name).trim();

			css = {
				lane: v('--lane'), laneMatch: v('--lane-match'),
				laneWait: v('--lane-wait'),
				laneBg: v('--lane-bg'), matchText: v('--match-text'),
				shade: v('--shade'), text: v('--frame-text'), fg: v('--fg'),
				dim: v('--dim'), line: v('--line'), metaFrame: v('--meta-frame'),
				marker: v('--marker-frame'), hover: v('--hover'),
				accent: v('--accent'), panel: v('--panel'), mono: v('--mono'),
				font: v('--font'),
			};
		}
		return css;
	}

	// A canvas sized to @w x @h CSS pixels, sharp on high-DPI screens.
	function sizeCanvas(c, w, h) {
		const dpr = window.devicePixelRatio || 1;

		if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
			c.width = Math.round(w * dpr);
			c.height = Math.round(h * dpr);
			c.style.height = h + 'px';
		}
		const ctx = c.getContext('2d');

		ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
		return ctx;
	}

	function fitText(s, width, charW) {
		const n = Math.floor(width / charW);

		if (n < 2)
			return '';
		return s.length > n ? s.slice(0, n - 1) + '…' : s;
	}

	function hashName(s) {
		let h = 2166136261;

		for (let i = 0; i < s.length; i++)
			h = Math.imul(h ^ s.charCodeAt(i), 16777619);
		return h >>> 0;
	}

	const frameColor = new Array(NF);

	function colorOf(i) {
		const kind = T.kind[i];

		if (kind !== KIND_FRAME)
			return colors().metaFrame;
		const f = T.ref[i];

		if (fKind[f] !== FRAME_PYTHON)
			return colors().marker;
		const lib = T.lib[i];
		const cache = lib ? 'l' : 'u';

		if (frameColor[f] === undefined)
			frameColor[f] = {};
		let c = frameColor[f][cache];

		if (!c) {
			const h = hashName(str(fName[f]));

			c = lib ? 'hsl(' + (196 + h % 24) + ',45%,' + (66 + (h >> 8) % 10) + '%)' :
				  'hsl(' + (14 + h % 34) + ',' + (72 + (h >> 8) % 18) + '%,' +
				  (58 + (h >> 16) % 12) + '%)';
			frameColor[f][cache] = c;
		}
		return c;
	}

	function showTooltip(x, y, lines) {
		const tip = $('tooltip');

		tip.textContent = '';
		for (const [cls, text] of lines)
			if (text)
				tip.appendChild(el('div', cls, text));
		tip.hidden = false;
		const r = tip.getBoundingClientRect();
		const left = Math.min(x + 14, window.innerWidth - r.width - 8);
		const top = y + 18 + r.height > window.innerHeight ? y - r.height - 10 : y + 18;

		tip.style.left = Math.max(4, left) + 'px';
		tip.style.top = Math.max(4, top) + 'px';
	}

	function hideTooltip() {
		$('tooltip').hidden = true;
	}

	function nodeTooltip(i) {
		const root = T.total[0];
		const lines = [['tt-name', nodeName(i)], ['tt-loc', nodeLoc(i)]];

		lines.push(['', fmtTime(T.total[i]) + ' total (' + fmtPct(T.total[i], root) + ')' +
			    (T.self[i] ? ' · ' + fmtTime(T.self[i]) + ' self (' +
			     fmtPct(T.self[i], root) + ')' : '')]);
		if (T.kind[i] === KIND_FRAME && T.lib[i]) {
			const p = procs[T.proc[i]];

			lines.push(['tt-dim', 'library code: ' + str(p.libOf.get(T.ref[i]))]);
		}
		lines.push(['tt-dim', hiddenNote(i)]);
		if (T.kind[i] === KIND_PROC) {
			const p = procs[T.ref[i]];

			lines.push(['tt-dim', p.exe]);
		}
		return lines;
	}

	// --- the flame graph ---------------------------------------------------------------------

	const fl = { focus: 0, focusKey: '', hover: -1, hits: [], charW: 6.6 };

	function flameRowY(depth, contentH, top) {
		return st.flame ? contentH - (depth + 1) * ROW_H - top : depth * ROW_H - top;
	}

	function drawFlame() {
		const scroll = $('flame-scroll'), cvs = $('flame');
		const rows = T.maxDepth + 1;

		// As tall as the graph, up to half the window; deeper graphs scroll.
		scroll.style.height = Math.max(120, Math.min(rows * ROW_H + 2,
			Math.round(window.innerHeight * 0.5))) + 'px';
		const w = scroll.clientWidth, h = scroll.clientHeight;
		const contentH = Math.max(rows * ROW_H, h);

		$('flame-spacer').style.height = Math.max(0, contentH - h) + 'px';
		const ctx = sizeCanvas(cvs, w, h);
		const c = colors(), top = scroll.scrollTop, hits = [];
		const searching = !!st.query;

		ctx.clearRect(0, 0, w, h);
		ctx.font = '11px ' + c.mono;
		fl.charW = ctx.measureText('abcdefghij').width / 10 || 6.6;
		ctx.textBaseline = 'middle';
		cvs.dataset.nodes = T.n;
		if (!T.total[0]) {
			ctx.fillStyle = c.dim;
			ctx.fillText('No samples in this selection.', 12, 20);
			return;
		}
		const box = (i, x, bw) => {
			const y = flameRowY(T.depth[i], contentH, top);

			if (y + ROW_H <= 0 || y >= h)
				return;
			const dimmed = searching && !nodeMatch[i];

			ctx.globalAlpha = dimmed ? 0.28 : 1;
			ctx.fillStyle = searching && nodeMatch[i] ? c.laneMatch : colorOf(i);
			ctx.fillRect(x, y, Math.max(bw - (bw > 3 ? 1 : 0), 0.5), ROW_H - 1);
			if (bw > 24) {
				const label = fitText(nodeName(i), bw - 8, fl.charW);

				if (label) {
					ctx.fillStyle = !searching ? c.text :
						nodeMatch[i] ? c.matchText : c.fg;
					ctx.globalAlpha = dimmed ? 0.5 : 1;
					ctx.fillText(label, x + 4, y + ROW_H / 2);
				}
			}
			ctx.globalAlpha = 1;
			if (i === fl.hover || i === tr.selNode) {
				ctx.strokeStyle = i === fl.hover ? c.hover : c.accent;
				ctx.lineWidth = i === fl.hover ? 1.5 : 2;
				ctx.strokeRect(x + 0.75, y + 0.75, Math.max(bw - 2.5, 1),
					       ROW_H - 2.5);
			}
			hits.push(i, x, y, bw);
		};
		// The focus's callers span the whole width; the focus's subtree scales to it.
		const chain = [];

		for (let a = T.parent[fl.focus]; a >= 0; a = T.parent[a])
			chain.push(a);
		for (const a of chain)
			box(a, 0, w);
		const walk = (i, x, bw) => {
			box(i, x, bw);
			const y = flameRowY(T.depth[i], contentH, top);

			// children lie one row further from the root: stop when that is off screen
			if (st.flame ? y <= 0 : y + ROW_H >= h)
				return;
			const scale = bw / T.total[i];
			let cx = x;

			for (let c = T.cstart[i], end = c + T.ccount[i]; c < end; c++) {
				const ch = T.children[c], cw = T.total[ch] * scale;

				if (cw < 0.35)
					break;	// sorted largest first: the rest are thinner still
				walk(ch, cx, cw);
				cx += cw;
			}
		};
		walk(fl.focus, 0, w);
		fl.hits = hits;
		const crumbs = [];

		for (let a = fl.focus; a > 0; a = T.parent[a])
			crumbs.unshift(nodeName(a));
		$('crumbs').textContent = crumbs.length ? 'all › ' + crumbs.join(' › ') : '';
	}

	function flameHit(ev) {
		const r = $('flame').getBoundingClientRect();
		const x = ev.clientX - r.left, y = ev.clientY - r.top, hits = fl.hits;

		for (let k = hits.length - 4; k >= 0; k -= 4)
			if (x >= hits[k + 1] && x < hits[k + 1] + hits[k + 3] && y >= hits[k + 2] &&
			    y < hits[k + 2] + ROW_H)
				return hits[k];
		return -1;
	}

	function setFocus(i) {
		fl.focus = i > 0 ? i : 0;
		fl.focusKey = nodeKey(fl.focus);
		schedule('flame');
	}

	// --- the timeline ------------------------------------------------------------------------

	const tl = { lanes: [], gutter: 160, plotW: 0, laneH: 14, dragFrom: -1, dragTo: -1,
		     cache: new Map(), matchCache: new Map(), matchQuery: '' };
	const AXIS_H = 18;

	function timelineLanes() {
		if (st.proc < 0)
			return sampledProcs.map((p) => ({
				kind: KIND_PROC, ref: p.index, label: procLabel(p),
				threads: p.threads,
			}));
		return procs[st.proc].threads.filter((t) => t.total > 0)
			.sort((a, b) => a.index - b.index)
			.map((t) => ({ kind: KIND_THREAD, ref: t.index, label: threadLabel(t),
				       threads: [t] }));
	}

	// A stack whose leaf is a wait marker ("[sleep]"): time off CPU, in wall mode.
	const stackWait = new Uint8Array(NS);
	for (let i = 1; i < NS; i++)
		stackWait[i] = fKind[sFrame[i]] === FRAME_WAIT ? 1 : 0;

	// Weight per bucket of a lane: { cpu, wait }; with @match, only of the stacks matching
	// the search (one array).
	function laneData(lane, match) {
		const key = lane.kind + ':' + lane.ref;
		const cache = match ? tl.matchCache : tl.cache;
		let a = cache.get(key);

		if (!a) {
			const cpu = new Float64Array(NB), wait = match ? cpu : new Float64Array(NB);

			for (const t of lane.threads) {
				for (let g = 0; g < t.ng; g++) {
					const b = t.gB[g];

					for (let e = t.gStart[g]; e < t.gStart[g + 1]; e++) {
						const s = t.eS[e];

						if (match && !stackMatch[s])
							continue;
						(stackWait[s] ? wait : cpu)[b] += t.eW[e];
					}
				}
			}
			a = match ? cpu : { cpu, wait };
			cache.set(key, a);
		}
		return a;
	}

	// The buckets of column @col of @cols: [b0, b1).
	function columnBuckets(col, cols) {
		const b0 = Math.floor(col * NB / cols);

		return [b0, Math.max(b0 + 1, Math.floor((col + 1) * NB / cols))];
	}

	/*
	 * What a lane draws per column, as shares of the column's wall time: on CPU, waiting, and
	 * in stacks matching the search. A thread is busy 100% at most; a process lane holds its
	 * threads' time, and past one thread's worth (several threads busy at once) it is full,
	 * split in proportion: a process with one busy thread fills its lane.
	 */
	function laneShares(lane, cols) {
		const data = laneData(lane, false), mdata = st.query ? laneData(lane, true) : null;
		const cpu = new Float64Array(cols), wait = new Float64Array(cols);
		const match = new Float64Array(cols);

		for (let col = 0; col < cols; col++) {
			const [b0, b1] = columnBuckets(col, cols);
			let c = 0, w = 0, m = 0;

			for (let b = b0; b < b1; b++) {
				c += data.cpu[b];
				w += data.wait[b];
				if (mdata)
					m += mdata[b];
			}
			const whole = (b1 - b0) * bucketUnits, k = c + w > whole ? 1 / (c + w) : 1 / whole;

			cpu[col] = c * k;
			wait[col] = w * k;
			match[col] = m * k;
		}
		return { cpu, wait, match };
	}

	const bucketX = (b) => tl.gutter + b * tl.plotW / NB;

	const bucketS = () => (meta.bucket_ns || 0) / 1e9;

	// For tests (#timeline-data): a lane's shares per column, and the time each column covers.
	function exposeLane(lane, sh, cols) {
		const round = (a) => Array.from(a, (v) => Math.round(v * 1e4) / 1e4);
		const t0 = [], t1 = [];

		for (let col = 0; col < cols; col++) {
			const [b0, b1] = columnBuckets(col, cols);

			t0.push(b0 * bucketS());
			t1.push(b1 * bucketS());
		}
		const proc = lane.kind === KIND_PROC ? lane.ref : threads[lane.ref].proc;

		return {
			kind: lane.kind === KIND_PROC ? 'process' : 'thread', process: proc,
			pid: procs[proc].pid,
			tid: lane.kind === KIND_THREAD ? threads[lane.ref].tid : null,
			t0, t1, cpu: round(sh.cpu), wait: round(sh.wait),
		};
	}

	function niceStep(span) {
		const raw = span / 8, pow = Math.pow(10, Math.floor(Math.log10(raw)));

		for (const m of [1, 2, 5, 10])
			if (raw <= m * pow)
				return m * pow;
		return 10 * pow;
	}

	function drawTimeline() {
		const cvs = $('timeline'), box = $('timeline-scroll');
		const w = box.clientWidth, c = colors();

		tl.lanes = timelineLanes();
		const n = Math.max(tl.lanes.length, 1);

		tl.laneH = Math.max(6, Math.min(22, Math.floor(220 / n)));
		tl.gutter = Math.min(200, Math.max(90, Math.floor(w * 0.16)));
		tl.plotW = Math.max(w - tl.gutter - 10, 10);
		const h = n * tl.laneH + AXIS_H;
		const ctx = sizeCanvas(cvs, w, h);

		if (tl.matchQuery !== st.query) {
			tl.matchCache.clear();
			tl.matchQuery = st.query;
		}
		ctx.clearRect(0, 0, w, h);
		ctx.font = '11px ' + c.font;
		ctx.textBaseline = 'middle';
		const cols = Math.max(1, Math.floor(tl.plotW));

		const exposed = location.hash === '#timeline-data' ? [] : null;

		tl.lanes.forEach((lane, li) => {
			const y = li * tl.laneH, sh = laneShares(lane, cols);
			const ih = tl.laneH - (tl.laneH > 8 ? 2 : 1);
			const px = tl.plotW / cols, bw = Math.max(px, 1);
			// a share as a bar height: at least a pixel when there is any
			const height = (share) => (share > 0 ? Math.max(1, ih * Math.min(1, share)) : 0);

			ctx.fillStyle = li % 2 ? c.panel : c.laneBg;
			ctx.fillRect(tl.gutter, y, tl.plotW, tl.laneH);
			for (let col = 0; col < cols; col++) {
				const x = tl.gutter + col * px, ch = height(sh.cpu[col]);
				const wh = height(sh.cpu[col] + sh.wait[col]) - ch;

				// on CPU at the bottom, waiting stacked above it
				if (ch) {
					ctx.fillStyle = c.lane;
					ctx.fillRect(x, y + tl.laneH - ch, bw, ch);
				}
				if (wh > 0) {
					ctx.fillStyle = c.laneWait;
					ctx.fillRect(x, y + tl.laneH - ch - wh, bw, wh);
				}
				if (sh.match[col]) {
					const mh = height(sh.match[col]);

					ctx.fillStyle = c.laneMatch;
					ctx.fillRect(x, y + tl.laneH - mh, bw, mh);
				}
			}
			if (exposed)
				exposed.push(exposeLane(lane, sh, cols));
			if (tl.laneH >= 11) {
				const sel = lane.kind === KIND_THREAD ? st.thread === lane.ref :
					st.proc === lane.ref;

				const size = tl.laneH < 14 ? '9.5px ' : '11px ';

				ctx.fillStyle = sel ? c.accent : c.fg;
				ctx.font = (sel ? '600 ' : '') + size + c.font;
				ctx.fillText(fitText(lane.label, tl.gutter - 12, 6.2), 6,
					     y + tl.laneH / 2);
			}
		});
		if (exposed)
			cvs.dataset.lanes = JSON.stringify({ cols, bucket_s: bucketS(), lanes: exposed });
		if (!tl.lanes.length) {
			ctx.fillStyle = c.dim;
			ctx.fillText('No samples.', 8, 8);
		}
		// the time axis
		const spanS = NB * (meta.bucket_ns || 0) / 1e9, axisY = n * tl.laneH;

		ctx.fillStyle = c.dim;
		ctx.font = '10.5px ' + c.font;
		ctx.fillText('seconds', 6, axisY + AXIS_H / 2);
		if (spanS > 0) {
			const step = niceStep(spanS);

			ctx.strokeStyle = c.line;
			for (let s = 0; s <= spanS + 1e-9; s += step) {
				const x = tl.gutter + s / spanS * tl.plotW;

				ctx.beginPath();
				ctx.moveTo(x + 0.5, axisY);
				ctx.lineTo(x + 0.5, axisY + 4);
				ctx.stroke();
				ctx.fillText(+s.toPrecision(6) + '', x + 2, axisY + AXIS_H / 2 + 1);
			}
		}
		// the selected range: shade the rest
		let r = st.range;

		if (tl.dragFrom >= 0) {
			r = [Math.min(tl.dragFrom, tl.dragTo),
			     Math.max(tl.dragFrom, tl.dragTo) + 1];
		}
		if (r) {
			const lanesH = n * tl.laneH, x1 = bucketX(r[1]);

			ctx.fillStyle = c.shade;
			ctx.fillRect(tl.gutter, 0, bucketX(r[0]) - tl.gutter, lanesH);
			ctx.fillRect(x1, 0, tl.gutter + tl.plotW - x1, lanesH);
			ctx.strokeStyle = c.accent;
			ctx.strokeRect(bucketX(r[0]) + 0.5, 0.5, bucketX(r[1]) - bucketX(r[0]) - 1,
				       n * tl.laneH - 1);
		}
		const bs = (meta.bucket_ns || 0) / 1e9;

		$('range').textContent = st.range ? fmtSeconds(st.range[0] * bs) + ' – ' +
			fmtSeconds(st.range[1] * bs) + ' selected (' +
			fmtSeconds((st.range[1] - st.range[0]) * bs) + ')' : '';
		$('range-reset').hidden = !st.range;
	}

	function timelineBucket(ev) {
		const r = $('timeline').getBoundingClientRect();
		const x = ev.clientX - r.left;

		return Math.max(0, Math.min(NB - 1, Math.floor((x - tl.gutter) / tl.plotW * NB)));
	}

	function timelineLane(ev) {
		const r = $('timeline').getBoundingClientRect();

		return Math.floor((ev.clientY - r.top) / tl.laneH);
	}

	// --- the call tree view ------------------------------------------------------------------

	const tr = { rows: [], depth: [], expanded: new Set(), showAll: new Set(), sel: -1,
		     selNode: -1, selKey: null };

	function isOpen(i) {
		return T.ccount[i] > 0 && tr.expanded.has(nodeKey(i));
	}

	function rebuildRows() {
		const rows = [], depth = [], stack = [];
		const pushChildren = (i, d) => {
			const n = T.ccount[i];
			const lim = tr.showAll.has(nodeKey(i)) ? n : Math.min(n, CHILD_LIMIT);

			if (lim < n)
				stack.push(-1 - i, d);
			for (let k = lim - 1; k >= 0; k--)
				stack.push(T.children[T.cstart[i] + k], d);
		};
		pushChildren(0, 0);
		while (stack.length) {
			const d = stack.pop(), i = stack.pop();

			rows.push(i);
			depth.push(d);
			if (i > 0 && isOpen(i))
				pushChildren(i, d + 1);
		}
		tr.rows = rows;
		tr.depth = depth;
		tr.sel = tr.selNode >= 0 ? rows.indexOf(tr.selNode) : -1;
		$('tree').dataset.rows = rows.length;
		$('tree-spacer').style.height = rows.length * TREE_ROW_H + 'px';
		// As tall as its rows, up to most of the window; more rows scroll.
		const want = Math.min(rows.length * TREE_ROW_H + 18,
				      Math.round(window.innerHeight * 0.7));

		$('tree').style.height = Math.max(TREE_ROW_H * 4, want) + 'px';
	}

	function appendHighlighted(parent, text) {
		const q = st.query;
		const lower = text.toLowerCase();

		// Lower-casing can change lengths (rare scripts): then mark nothing inside.
		if (!q || lower.length !== text.length) {
			parent.appendChild(document.createTextNode(text));
			return;
		}
		let at = 0;

		for (let k = lower.indexOf(q); k >= 0; k = lower.indexOf(q, k + q.length)) {
			if (k > at)
				parent.appendChild(document.createTextNode(text.slice(at, k)));
			parent.appendChild(el('mark', '', text.slice(k, k + q.length)));
			at = k + q.length;
		}
		if (at < text.length)
			parent.appendChild(document.createTextNode(text.slice(at)));
	}

	function timeClass(share) {
		return share >= 0.6 ? 'time t-hot' : share >= 0.2 ? 'time t-warm' :
			share >= 0.05 ? 'time t-cool' : 'time';
	}

	function makeRow(r) {
		const i = tr.rows[r], row = el('div', 'row');

		row.id = 'row-' + r;
		row.dataset.r = r;
		row.setAttribute('role', 'treeitem');
		row.style.paddingLeft = 4 + tr.depth[r] * 16 + 'px';
		if (i < 0) {
			const p = -1 - i, shown = CHILD_LIMIT;
			let rest = 0;

			for (let k = shown; k < T.ccount[p]; k++)
				rest += T.total[T.children[T.cstart[p] + k]];
			row.className = 'row more';
			row.appendChild(el('span', 'tw', ''));
			row.appendChild(el('span', '', '… ' + fmtInt(T.ccount[p] - shown) +
					   ' more calls, ' + fmtTime(rest) + ' (click to show)'));
			return row;
		}
		const share = T.total[0] ? T.total[i] / T.total[0] : 0;

		if (T.kind[i] !== KIND_FRAME)
			row.classList.add('meta');
		if (T.lib[i])
			row.classList.add('lib');
		if (st.query && nodeMatch[i])
			row.classList.add('match');
		if (r === tr.sel) {
			row.classList.add('selected');
			row.setAttribute('aria-selected', 'true');
		}
		row.setAttribute('aria-level', tr.depth[r] + 1);
		if (T.ccount[i])
			row.setAttribute('aria-expanded', isOpen(i) ? 'true' : 'false');
		row.appendChild(el('span', 'tw', T.ccount[i] ? (isOpen(i) ? '▾' : '▸') : ''));
		row.appendChild(el('span', timeClass(share), fmtTime(T.total[i])));
		row.appendChild(el('span', 'pct', fmtPct(T.total[i], T.total[0])));
		const name = el('span', 'name');

		appendHighlighted(name, nodeName(i));
		row.appendChild(name);
		const loc = nodeLoc(i);

		if (loc) {
			const l = el('span', 'loc');

			appendHighlighted(l, loc);
			row.appendChild(l);
		}
		const note = hiddenNote(i);

		if (note) {
			const hid = el('span', 'hid', note);

			hid.title = 'Click to show library code';
			row.appendChild(hid);
		}
		if (T.self[i] && T.ccount[i])
			row.appendChild(el('span', 'self', 'self ' + fmtTime(T.self[i])));
		return row;
	}

	function renderRows() {
		const view = $('tree'), box = $('tree-rows');
		const first = Math.max(0, Math.floor(view.scrollTop / TREE_ROW_H) - 8);
		const last = Math.min(tr.rows.length,
				      first + Math.ceil(view.clientHeight / TREE_ROW_H) + 16);
		const frag = document.createDocumentFragment();

		box.style.top = first * TREE_ROW_H + 'px';
		for (let r = first; r < last; r++)
			frag.appendChild(makeRow(r));
		box.textContent = '';
		box.appendChild(frag);
		if (!tr.rows.length)
			box.appendChild(el('div', 'empty', 'No samples in this selection.'));
		if (tr.sel >= 0)
			view.setAttribute('aria-activedescendant', 'row-' + tr.sel);
		else
			view.removeAttribute('aria-activedescendant');
	}

	function selectRow(r, scroll) {
		if (r < 0 || r >= tr.rows.length)
			return;
		tr.sel = r;
		tr.selNode = tr.rows[r] > 0 ? tr.rows[r] : -1;
		tr.selKey = tr.selNode > 0 ? nodeKey(tr.selNode) : null;
		if (scroll) {
			const view = $('tree'), y = r * TREE_ROW_H;

			if (y < view.scrollTop)
				view.scrollTop = y;
			else if (y + TREE_ROW_H > view.scrollTop + view.clientHeight)
				view.scrollTop = y + TREE_ROW_H - view.clientHeight;
		}
		schedule('rows', 'flame');
	}

	function toggle(i, open) {
		const k = nodeKey(i);

		if (open === undefined)
			open = !tr.expanded.has(k);
		if (open)
			tr.expanded.add(k);
		else
			tr.expanded.delete(k);
		rebuildRows();
		schedule('rows');
	}

	// A "more" row (-1 - parent) shows the rest of its parent's children.
	function showMore(i) {
		tr.showAll.add(nodeKey(-1 - i));
		rebuildRows();
		schedule('rows');
	}

	// Opens @i and everything below it, largest first, up to EXPAND_LIMIT rows.
	function expandAll(i) {
		const queue = [i];
		let opened = 0;

		while (queue.length && opened < EXPAND_LIMIT) {
			const n = queue.shift();

			if (!T.ccount[n])
				continue;
			tr.expanded.add(nodeKey(n));
			opened += T.ccount[n];
			const end = T.cstart[n] + Math.min(T.ccount[n], CHILD_LIMIT);

			for (let c = T.cstart[n]; c < end; c++)
				queue.push(T.children[c]);
		}
		rebuildRows();
		schedule('rows');
	}

	// Opens the callers of @i and selects it.
	function reveal(i) {
		for (let a = T.parent[i]; a > 0; a = T.parent[a])
			tr.expanded.add(nodeKey(a));
		tr.selNode = i;
		rebuildRows();
		if (tr.sel >= 0)
			selectRow(tr.sel, true);
	}

	// Opens the heavy paths: what a reader looks at first.
	function autoExpand() {
		const root = T.total[0], stack = [0];
		let opened = 0;

		while (stack.length && opened < 300) {
			const i = stack.pop();

			for (let c = T.cstart[i]; c < T.cstart[i] + T.ccount[i]; c++) {
				const ch = T.children[c];

				const heavy = T.kind[ch] !== KIND_FRAME ||
					T.total[ch] >= 0.1 * root;

				if (T.ccount[ch] && heavy && T.depth[ch] < 80) {
					tr.expanded.add(nodeKey(ch));
					opened++;
					stack.push(ch);
				}
			}
		}
	}

	// Opens the callers of the heaviest matches.
	function expandMatches() {
		const found = [];

		for (let i = 1; i < T.n; i++)
			if (nodeMatch[i])
				found.push(i);
		found.sort((a, b) => T.total[b] - T.total[a]);
		for (const i of found.slice(0, 50))
			for (let a = T.parent[i]; a > 0; a = T.parent[a])
				tr.expanded.add(nodeKey(a));
	}

	// --- updates -----------------------------------------------------------------------------

	const pending = new Set();
	let frame = 0;

	function schedule(...what) {
		for (const w of what)
			pending.add(w);
		if (!frame)
			frame = requestAnimationFrame(flush);
	}

	function flush() {
		frame = 0;
		const p = new Set(pending);

		pending.clear();
		if (p.has('timeline'))
			drawTimeline();
		if (p.has('flame'))
			drawFlame();
		if (p.has('rows'))
			renderRows();
	}

	// Rebuilds the tree after a change of selection, range or options (or only the matches).
	function rebuild(opts) {
		const selKey = tr.selKey;

		opts = opts || {};
		if (opts.tree !== false) {
			T = buildTree();
			fl.focus = fl.focusKey ? findKey(fl.focusKey) : 0;
			fl.hover = -1;
			tr.selNode = selKey ? findKey(selKey) : -1;
			if (tr.selNode === 0)
				tr.selNode = -1;
		}
		matchNodes();
		if (opts.expand)
			autoExpand();
		if (opts.matches)
			expandMatches();
		rebuildRows();
		const mt = $('matches');

		mt.textContent = !st.query ? '' : !matchCount ? 'no match' : fmtInt(matchCount) +
			(matchCount === 1 ? ' match · ' : ' matches · ') + fmtTime(matchTotal) +
			' (' + fmtPct(matchTotal, T.total[0]) + ')';
		document.body.dataset.matches = matchCount;
		schedule('timeline', 'flame', 'rows');
	}

	function setProcess(p) {
		st.proc = p;
		st.thread = -1;
		fl.focusKey = '';
		fillThreads();
		syncControls();
		rebuild({ expand: true });
	}

	function setThread(t) {
		st.thread = t;
		fl.focusKey = '';
		syncControls();
		rebuild({ expand: true });
	}

	function setQuery(q) {
		st.query = q.trim().toLowerCase();
		matchFrames();
		rebuild({ tree: false, matches: true });
	}

	function setRange(r) {
		st.range = r && r[1] > r[0] && !(r[0] === 0 && r[1] >= NB) ? r : null;
		rebuild();
	}

	// --- events ------------------------------------------------------------------------------

	function wire() {
		$('process').addEventListener('change', (e) => setProcess(+e.target.value));
		$('thread').addEventListener('change', (e) => setThread(+e.target.value));
		let searchTimer = 0;

		$('search').addEventListener('input', (e) => {
			clearTimeout(searchTimer);
			searchTimer = setTimeout(() => setQuery(e.target.value), 120);
		});
		$('search').addEventListener('keydown', (e) => {
			if (e.key === 'Escape') {
				e.target.value = '';
				setQuery('');
				e.target.blur();
			} else if (e.key === 'Enter') {
				clearTimeout(searchTimer);
				setQuery(e.target.value);
			}
		});
		$('hide-lib').addEventListener('change', (e) => {
			st.hideLib = e.target.checked;
			rebuild({ expand: true });
		});
		$('merge-threads').addEventListener('change', (e) => {
			st.merge = e.target.checked;
			rebuild({ expand: true });
		});
		$('orient').addEventListener('click', () => {
			st.flame = !st.flame;
			syncControls();
			const s = $('flame-scroll');

			s.scrollTop = st.flame ? s.scrollHeight : 0;
			schedule('flame');
		});
		$('range-reset').addEventListener('click', () => setRange(null));
		$('help-button').addEventListener('click', () => showHelp(true));
		$('help-close').addEventListener('click', () => showHelp(false));
		$('help').addEventListener('click', (e) => {
			if (e.target === $('help'))
				showHelp(false);
		});

		// flame graph
		const cvs = $('flame');

		$('flame-scroll').addEventListener('scroll', () => schedule('flame'),
						   { passive: true });
		cvs.addEventListener('mousemove', (e) => {
			const i = flameHit(e);

			if (i !== fl.hover) {
				fl.hover = i;
				schedule('flame');
			}
			if (i >= 0)
				showTooltip(e.clientX, e.clientY, nodeTooltip(i));
			else
				hideTooltip();
		});
		cvs.addEventListener('mouseleave', () => {
			fl.hover = -1;
			hideTooltip();
			schedule('flame');
		});
		cvs.addEventListener('click', (e) => {
			const i = flameHit(e);

			if (i < 0)
				return;
			setFocus(i);
			reveal(i);
		});
		cvs.addEventListener('dblclick', () => setFocus(0));
		cvs.addEventListener('keydown', (e) => {
			if (e.key === 'Enter' && tr.selNode > 0)
				setFocus(tr.selNode);
		});

		// timeline
		const tc = $('timeline');

		tc.addEventListener('mousedown', (e) => {
			const r = tc.getBoundingClientRect();

			if (e.button !== 0)
				return;
			if (e.clientX - r.left < tl.gutter) {
				const lane = tl.lanes[timelineLane(e)];

				if (lane && lane.kind === KIND_PROC)
					setProcess(lane.ref);
				else if (lane)
					setThread(st.thread === lane.ref ? -1 : lane.ref);
				return;
			}
			tl.dragFrom = tl.dragTo = timelineBucket(e);
			tl.dragX = e.clientX;
			e.preventDefault();	// no text selection; focus the canvas for its keys
			tc.focus();
		});
		window.addEventListener('mousemove', (e) => {
			if (tl.dragFrom < 0)
				return;
			tl.dragTo = timelineBucket(e);
			schedule('timeline');
		});
		window.addEventListener('mouseup', (e) => {
			if (tl.dragFrom < 0)
				return;
			const a = Math.min(tl.dragFrom, tl.dragTo);
			const b = Math.max(tl.dragFrom, tl.dragTo);
			const moved = Math.abs(e.clientX - tl.dragX) >= 3;

			tl.dragFrom = tl.dragTo = -1;
			setRange(moved ? [a, b + 1] : null);
		});
		tc.addEventListener('mousemove', (e) => {
			if (tl.dragFrom >= 0)
				return;
			const lane = tl.lanes[timelineLane(e)];
			const r = tc.getBoundingClientRect();

			if (!lane) {
				hideTooltip();
				return;
			}
			if (e.clientX - r.left < tl.gutter) {
				showTooltip(e.clientX, e.clientY, [['tt-name', lane.label],
					['tt-dim', 'click: show this ' +
					 (lane.kind === KIND_PROC ? 'process' : 'thread')]]);
				return;
			}
			const b = timelineBucket(e), d = laneData(lane, false);
			const bs = (meta.bucket_ns || 0) / 1e9;
			const pct = (v) => (100 * v / bucketUnits).toFixed(0) + '% (' + fmtTime(v) + ')';
			const lines = [['tt-name', lane.label],
				['tt-dim', fmtSeconds(b * bs) + ' – ' + fmtSeconds((b + 1) * bs)],
				['', 'on CPU ' + pct(d.cpu[b])]];

			if (d.wait[b])
				lines.push(['', 'waiting ' + pct(d.wait[b])]);
			showTooltip(e.clientX, e.clientY, lines);
		});
		tc.addEventListener('mouseleave', hideTooltip);
		tc.addEventListener('keydown', (e) => {
			const step = Math.max(1, Math.round(NB / 50));
			const r = st.range || [0, NB];

			if (e.key === 'ArrowLeft' && r[0] > 0)
				setRange([Math.max(0, r[0] - step), Math.max(1, r[1] - step)]);
			else if (e.key === 'ArrowRight' && r[1] < NB)
				setRange([Math.min(NB - 1, r[0] + step),
					  Math.min(NB, r[1] + step)]);
			else if (e.key === '-')
				setRange([Math.max(0, r[0] - step), Math.min(NB, r[1] + step)]);
			else if ((e.key === '+' || e.key === '=') && r[1] - r[0] > 2 * step)
				setRange([r[0] + step, r[1] - step]);
			else
				return;
			e.preventDefault();
		});

		// call tree
		const view = $('tree');

		view.addEventListener('scroll', () => schedule('rows'), { passive: true });
		view.addEventListener('click', (e) => {
			const row = e.target.closest('.row');

			if (!row)
				return;
			const r = +row.dataset.r, i = tr.rows[r];

			if (i < 0) {
				showMore(i);
				return;
			}
			selectRow(r, false);
			if (e.target.classList.contains('hid')) {
				// "[N frames hidden]": show library code again
				st.hideLib = false;
				syncControls();
				rebuild({ expand: true });
				const n = findKey(tr.selKey || '');

				if (n > 0) {
					tr.expanded.add(nodeKey(n));
					reveal(n);
				}
				return;
			}
			if (e.target.classList.contains('tw') && T.ccount[i]) {
				if (e.altKey)
					expandAll(i);
				else
					toggle(i);
			}
		});
		view.addEventListener('dblclick', (e) => {
			const row = e.target.closest('.row');

			if (row && tr.rows[+row.dataset.r] > 0)
				setFocus(tr.rows[+row.dataset.r]);
		});
		view.addEventListener('keydown', treeKey);
		document.addEventListener('keydown', globalKey);
		window.addEventListener('resize', () => {
			rebuildRows();
			schedule('timeline', 'flame', 'rows');
		});
		if (window.matchMedia) {
			const dark = window.matchMedia('(prefers-color-scheme: dark)');

			dark.addEventListener('change', () => {
				css = null;
				frameColor.fill(undefined);
				schedule('timeline', 'flame');
			});
		}
	}

	function treeKey(e) {
		const r = tr.sel, i = r >= 0 ? tr.rows[r] : -1;
		const page = Math.max(1, Math.floor($('tree').clientHeight / TREE_ROW_H) - 1);

		switch (e.key) {
		case 'ArrowDown':
			selectRow(Math.min(r + 1, tr.rows.length - 1), true);
			break;
		case 'ArrowUp':
			selectRow(Math.max(r - 1, 0), true);
			break;
		case 'PageDown':
			selectRow(Math.min(r + page, tr.rows.length - 1), true);
			break;
		case 'PageUp':
			selectRow(Math.max(r - page, 0), true);
			break;
		case 'Home':
			selectRow(0, true);
			break;
		case 'End':
			selectRow(tr.rows.length - 1, true);
			break;
		case 'ArrowRight':
			if (i > 0 && T.ccount[i] && !isOpen(i))
				toggle(i, true);
			else if (i > 0 && T.ccount[i])
				selectRow(r + 1, true);
			break;
		case 'ArrowLeft':
			if (i > 0 && isOpen(i)) {
				toggle(i, false);
			} else if (r > 0) {
				let p = r - 1;

				while (p > 0 && tr.depth[p] >= tr.depth[r])
					p--;
				selectRow(p, true);
			}
			break;
		case ' ':
			if (i > 0 && T.ccount[i])
				toggle(i);
			else if (i < 0)
				showMore(i);
			break;
		case '*':
			if (i > 0)
				expandAll(i);
			break;
		case 'Enter':
			if (i > 0)
				setFocus(i);
			break;
		default:
			return;
		}
		e.preventDefault();
		e.stopPropagation();
	}

	function showHelp(on) {
		$('help').hidden = !on;
		if (on)
			$('help-close').focus();
	}

	function globalKey(e) {
		const tag = e.target.tagName;

		if (e.ctrlKey || e.metaKey || e.altKey)
			return;
		if (!$('help').hidden) {
			if (e.key === 'Escape' || e.key === '?')
				showHelp(false);
			return;
		}
		if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA')
			return;
		switch (e.key) {
		case '/':
			$('search').focus();
			$('search').select();
			break;
		case 'p':
			$('process').focus();
			break;
		case 't':
			$('thread').focus();
			break;
		case 'l':
			if (!anyLib)
				return;
			st.hideLib = !st.hideLib;
			syncControls();
			rebuild({ expand: true });
			break;
		case 'm':
			if (!anySplit)
				return;
			st.merge = !st.merge;
			syncControls();
			rebuild({ expand: true });
			break;
		case 'f':
			$('orient').click();
			break;
		case '?':
			showHelp(true);
			break;
		case 'Escape':
			if (fl.focus > 0)
				setFocus(0);
			else if (st.range)
				setRange(null);
			else if (st.query) {
				$('search').value = '';
				setQuery('');
			}
			break;
		default:
			return;
		}
		e.preventDefault();
	}

	// --- self-test ---------------------------------------------------------------------------

	/*
	 * Opening the report at #selftest checks the trees it builds: every view (library code
	 * hidden or not, threads merged or not, each process) keeps all the time of its threads,
	 * and no node has two children for the same call. The verdict goes to body[data-selftest].
	 */
	function checkTree(t, want, what, problems) {
		let self = 0;

		for (let i = 0; i < t.n; i++) {
			const seen = new Set();

			self += t.self[i];
			for (let c = t.cstart[i]; c < t.cstart[i] + t.ccount[i]; c++) {
				const x = t.children[c], key = t.kind[x] + ':' + t.ref[x];

				if (seen.has(key))
					problems.push(`${what}: node ${i} has two children ${key}`);
				seen.add(key);
			}
		}
		const off = (x) => Math.abs(x - want) > 1e-6 * want;

		if (off(t.total[0]) || off(self))
			problems.push(`${what}: total ${t.total[0]}, self ${self}, want ${want}`);
	}

	function selfTest() {
		const saved = Object.assign({}, st);
		const problems = [];

		const views = [];

		for (const proc of [-1].concat(sampledProcs.map((p) => p.index))) {
			for (const f of [0, 1, 2, 3]) {
				const hideLib = !!(f & 1), merge = !!(f & 2);

				views.push({ proc, thread: -1, hideLib, merge, range: null });
			}
		}
		for (const v of views) {
			Object.assign(st, v);
			checkTree(buildTree(), v.proc < 0 ? grandTotal : procs[v.proc].total,
				  JSON.stringify(v), problems);
		}
		Object.assign(st, saved);
		document.body.dataset.selftest = problems.slice(0, 5).join('; ') || 'ok';
	}

	// --- start -------------------------------------------------------------------------------

	renderHeader();
	$('legend').hidden = !anyWait;
	fillProcesses();
	fillThreads();
	syncControls();
	wire();
	rebuild({ expand: true });
	flush();
	if (location.hash === '#selftest')
		selfTest();
	window.addEventListener('hashchange', () => {
		if (location.hash === '#selftest')
			selfTest();
		if (location.hash === '#timeline-data')
			schedule('timeline');
	});
	// For tests and the curious: how long the page took to become usable.
	document.body.dataset.loadMs = Math.round(performance.now() - t0);
	document.body.dataset.ready = '1';
})();
