/* SPDX-License-Identifier: MIT */
/*
 * test_render_svg.c — the SVG flame graph: widths are times, frames in flamegraph.pl's order,
 * library code folded as in the text view, one graph per process or group, hostile names inert.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render/frame_filter.h"
#include "fixture.h"
#include "html_assets.h"
#include "render/render.h"
#include "session/session_group.h"
#include "test.h"

/*
 * Environment:
 *   PYFLARE_SVG_HOSTILE_OUT=PATH  also write the hostile graph there (for the browser test)
 */

#define GRAPH_WIDTH 1180.0
#define PAD 10.0

enum {
	F_MOD,
	F_MAIN,
	F_ALPHA,
	F_ZETA,
	F_LOADS,
	F_DECODE,
	F_CB,
	F_REQ,
	F_SLEEP,
	F_SCRIPT,
	F_CDATA,
	F_CTRL,
	F_LS,
	F_NONCHAR,
	F_BAD,
	F_QUOTE,
	F_COMMENT,
	F_TRUNC,
	NF
};

#define SCRIPT "</script><script>alert(1)</script>"
#define CDATA "]]><script>alert(5)</script>"
#define COMMENT "--><script>alert(6)</script><!--"

static const struct session_frame fixture_frames[NF] = {
	[F_MOD] = { "<module>", "/srv/app.py", 1, 30, FRAME_PYTHON },
	[F_MAIN] = { "main", "/srv/app.py", 10, 12, FRAME_PYTHON },
	[F_ALPHA] = { "alpha", "/srv/app.py", 30, 31, FRAME_PYTHON },
	[F_ZETA] = { "zeta", "/srv/app.py", 40, 41, FRAME_PYTHON },
	[F_LOADS] = { "loads", "/usr/lib/python3.12/json/__init__.py", 299, 346, FRAME_PYTHON },
	[F_DECODE] = { "JSONDecoder.decode", "/usr/lib/python3.12/json/decoder.py", 332, 337,
		       FRAME_PYTHON },
	[F_CB] = { "callback", "/srv/app.py", 20, 21, FRAME_PYTHON },
	[F_REQ] = { "get", "/venv/lib/python3.12/site-packages/requests/api.py", 62, 73,
		    FRAME_PYTHON },
	[F_SLEEP] = { "[sleep]", "", 0, 0, FRAME_WAIT },
	[F_SCRIPT] = { SCRIPT, "<img src=x onerror=alert(2)>.py", 1, 2, FRAME_PYTHON },
	[F_CDATA] = { CDATA, "x.py", 3, 3, FRAME_PYTHON },
	[F_CTRL] = { "a\x01"
		     "b\x1b[31mc\x7f",
		     "x.py", 4, 4, FRAME_PYTHON },
	[F_LS] = { "x\xe2\x80\xa8y", "x.py", 5, 5, FRAME_PYTHON },
	[F_NONCHAR] = { "n\xef\xbf\xbe\xef\xbf\xbf", "x.py", 6, 6, FRAME_PYTHON },
	[F_BAD] = FX_BAD,
	[F_QUOTE] = { "say \"hi\" it's & <b>", "x.py", 7, 7, FRAME_PYTHON },
	[F_COMMENT] = { COMMENT, "x.py", 8, 8, FRAME_PYTHON },
	[F_TRUNC] = FX_TRUNC,
};

static const struct fixture_spec fixture_spec = {
	.target = "python3 </title><script>alert(4)</script>",
	.health = { 190, 3, 3, 1, 4, 9, 2, 3, 1 },
	.refused_comm = "<i>x</i>",
	.refused_reason = "unsupported </script> 3.15",
	.lib_dirs = "/usr/lib/python3.12",
	.evil_comm = "<b>evil</b>",
	.evil_cmdline = "</script><script>alert(2)</script>\x01",
	.evil_thread = "<svg onload=alert(3)>",
	.frames = fixture_frames,
	.nframes = NF,
};

/*
 * Process 4242: MainThread 112 W (zeta 30, alpha 20, loads > decode 40 and > decode > callback
 * 10, main itself 5, one [sleep] of 7 W, in that time order), worker 40 W (20 samples of 2 W in
 * requests). Process 5000: 7 W in a stack of hostile names, 3 W under a truncation marker, and
 * a second thread with 5 W. Process 6000 has no samples.
 */
#define MAIN_W 112
#define WORKER_W 40
#define P4242_W (MAIN_W + WORKER_W)
#define P5000_W 15
#define ALL_W (P4242_W + P5000_W)
#define ALL_SAMPLES (106 + 20 + 15)

static struct session *fixture(void)
{
	static const int sz[] = { F_MOD, F_MAIN, F_ZETA }, sa[] = { F_MOD, F_MAIN, F_ALPHA };
	static const int sd[] = { F_MOD, F_MAIN, F_LOADS, F_DECODE };
	static const int sb[] = { F_MOD, F_MAIN, F_LOADS, F_DECODE, F_CB };
	static const int sm[] = { F_MOD, F_MAIN }, ss[] = { F_MOD, F_MAIN, F_SLEEP };
	static const int sr[] = { F_REQ };
	static const int sh[] = { F_SCRIPT,  F_CDATA, F_CTRL,  F_LS,
				  F_NONCHAR, F_BAD,   F_QUOTE, F_COMMENT };
	static const int st[] = { F_TRUNC, F_SCRIPT };
	struct fixture_threads th;
	struct session *s = fixture_session(&fixture_spec, &th);
	int64_t second = session__add_thread(s, 1, 5001, "<iframe src=x>");
	uint64_t t;

	t = 1000;
	add_n(s, th.mainth, stack_of(s, sz, 3), 30, W, &t);
	add_n(s, th.mainth, stack_of(s, sa, 3), 20, W, &t);
	add_n(s, th.mainth, stack_of(s, sd, 4), 40, W, &t);
	add_n(s, th.mainth, stack_of(s, sb, 5), 10, W, &t);
	add_n(s, th.mainth, stack_of(s, sm, 2), 5, W, &t);
	add_n(s, th.mainth, stack_of(s, ss, 3), 1, 7 * W, &t);
	t = 500000000;
	add_n(s, th.worker, stack_of(s, sr, 1), 20, 2 * W, &t);
	t = 0;
	add_n(s, th.hostile, stack_of(s, sh, 8), 7, W, &t);
	add_n(s, th.hostile, stack_of(s, st, 2), 3, W, &t);
	add_n(s, second, stack_of(s, sm, 2), 5, W, &t);
	return s;
}

/* --- reading the SVG back ------------------------------------------------------------------- */

#define MAX_FRAMES 256

struct frame {
	int graph;
	unsigned long long x, w, graph_ns;
	double rx, rw;
	int y;
	char label[512]; /* unescaped */
	char text[512];	 /* the label as drawn, unescaped */
	char fill[32];
};

struct svg {
	struct frame f[MAX_FRAMES];
	int n, graphs;
	unsigned long long graph_ns[8];
};

/* Copies the XML text from @p up to @end, references resolved, into @buf. */
static void unescape(char *buf, size_t len, const char *p, const char *end)
{
	static const struct {
		const char *ref, *ch;
	} refs[] = { { "&lt;", "<" },	 { "&gt;", ">" },  { "&amp;", "&" },
		     { "&quot;", "\"" }, { "&#39;", "'" }, { "&#10;", "\n" } };
	size_t used = 0, k;

	while (p < end && used + 1 < len) {
		for (k = 0; k < sizeof(refs) / sizeof(refs[0]); k++)
			if (!strncmp(p, refs[k].ref, strlen(refs[k].ref)))
				break;
		if (k < sizeof(refs) / sizeof(refs[0])) {
			buf[used++] = *refs[k].ch;
			p += strlen(refs[k].ref);
		} else {
			buf[used++] = *p++;
		}
	}
	buf[used] = '\0';
}

/* The frames of @doc, in document order; false when one does not have the expected shape. */
static bool parse(const char *doc, struct svg *v)
{
	const char *p = doc, *g, *script = strstr(doc, "<script");

	memset(v, 0, sizeof(*v));
	/* (the script's comments show the markup too) */
	while ((p = strstr(p, "<g class=\"")) != NULL && (!script || p < script)) {
		struct frame *f = &v->f[v->n];
		const char *t, *te, *r, *x;

		if (!strncmp(p, "<g class=\"graph\"", 16)) {
			g = strstr(p, "data-ns=\"");
			if (!g || v->graphs == 8)
				return false;
			v->graph_ns[v->graphs++] = strtoull(g + 9, NULL, 10);
			p++;
			continue;
		}
		if (v->n == MAX_FRAMES || !v->graphs ||
		    sscanf(p, "<g class=\"f\" data-x=\"%llu\" data-w=\"%llu\">", &f->x, &f->w) != 2)
			return false;
		f->graph = v->graphs - 1;
		f->graph_ns = v->graph_ns[f->graph];
		t = strstr(p, "<title>");
		te = t ? strstr(t, "</title>") : NULL;
		if (!te)
			return false;
		x = strstr(t, "&#10;");
		unescape(f->label, sizeof(f->label), t + 7, x && x < te ? x : te);
		r = strstr(te, "<rect x=\"");
		if (!r ||
		    sscanf(r, "<rect x=\"%lf\" y=\"%d\" width=\"%lf\"", &f->rx, &f->y, &f->rw) != 3)
			return false;
		x = strstr(r, "fill=\"");
		if (!x || sscanf(x, "fill=\"%31[^\"]\"", f->fill) != 1)
			return false;
		t = strstr(r, "<text");
		t = t ? strchr(t, '>') : NULL;
		te = t ? strstr(t, "</text></g>") : NULL;
		if (!te)
			return false;
		unescape(f->text, sizeof(f->text), t + 1, te);
		v->n++;
		p = te;
	}
	return true;
}

/* The first frame of graph @g whose label is @label, or NULL. */
static const struct frame *find(const struct svg *v, int g, const char *label)
{
	int i;

	for (i = 0; i < v->n; i++)
		if (v->f[i].graph == g && !strcmp(v->f[i].label, label))
			return &v->f[i];
	return NULL;
}

/* (memmem with the length left: ASan's strstr measures the whole haystack at each call) */
static size_t count(const char *hay, const char *needle)
{
	size_t n = 0, len = strlen(needle), left = strlen(hay);
	const char *at;

	while ((at = memmem(hay, left, needle, len)) != NULL) {
		n++;
		left -= at + len - hay;
		hay = at + len;
	}
	return n;
}

/* Every rectangle is its time's share of its graph, to the 0.01 px written. */
static void check_widths(const struct svg *v)
{
	int i;

	for (i = 0; i < v->n; i++) {
		const struct frame *f = &v->f[i];
		double w = GRAPH_WIDTH * f->w / f->graph_ns;
		double x = PAD + GRAPH_WIDTH * f->x / f->graph_ns;

		if (fabs(f->rw - w) > 0.0051 || fabs(f->rx - x) > 0.0051)
			fprintf(stderr, "  %s: %.2f wide at %.2f, want %.4f at %.4f\n", f->label,
				f->rw, f->rx, w, x);
		CHECK(fabs(f->rw - w) <= 0.0051);
		CHECK(fabs(f->rx - x) <= 0.0051);
		CHECK(f->x + f->w <= f->graph_ns);
	}
}

/* @child is drawn on the row above @parent and within it. */
static void check_child(const struct frame *parent, const struct frame *child)
{
	CHECK(parent && child);
	if (!parent || !child)
		return;
	CHECK_INT(child->y, parent->y - 16);
	CHECK(child->x >= parent->x && child->x + child->w <= parent->x + parent->w);
}

static char *render_svg_of(const struct session *s, const struct render_opts *o, struct svg *v)
{
	int err;
	char *doc = render(&render_svg, s, o, &err);

	CHECK_INT(err, 0);
	CHECK(doc != NULL);
	if (!doc)
		return NULL;
	CHECK(parse(doc, v));
	check_widths(v);
	return doc;
}

/* --- tests ------------------------------------------------------------------------------------ */

static void test_registry(void)
{
	CHECK(renderer_by_name("svg") == &render_svg);
	CHECK(renderer_by_path("out/profile.svg") == &render_svg);
	CHECK(renderer_by_path("PROFILE.SVG") == &render_svg);
	CHECK_STR(render_svg.extensions[0], ".svg");
	/* the script sits in a CDATA section, which only "]]>" ends */
	CHECK(!memmem(flamegraph_js, flamegraph_js_len, "]]>", 3));
	CHECK(memmem(flamegraph_js, flamegraph_js_len, "textContent", 11));
	CHECK(!memmem(flamegraph_js, flamegraph_js_len, "innerHTML", 9));
}

static void test_structure(void)
{
	struct session *s = fixture();
	struct frame_filter *filter = frame_filter__new();
	struct render_opts o = render_opts_default;
	const struct frame *proc, *mainth, *worker, *mod, *mainf, *sleep, *alpha, *loads, *zeta;
	const struct frame *group, *cb, *get;
	struct svg *v = calloc(1, sizeof(*v));
	char *doc;

	o.filter = filter;
	doc = render_svg_of(s, &o, v);
	if (!doc)
		goto out;
	CHECK(valid_utf8(doc));
	CHECK(!strncmp(doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"", 36));
	CHECK(strstr(doc, "xmlns=\"http://www.w3.org/2000/svg\""));
	CHECK(strstr(doc, "</svg>\n") && !strcmp(strstr(doc, "</svg>\n"), "</svg>\n"));
	/* the title names the target; the subtitle the mode and the total time */
	CHECK(strstr(doc, ">pyflare: python3 &lt;/title&gt;&lt;script&gt;alert(4)"
			  "&lt;/script&gt;<"));
	CHECK(strstr(doc, "cpu mode: 167 ms on CPU in 141 samples, 999 Hz timer on 2 CPUs"));
	CHECK(strstr(doc, "Alphabetical order"));
	CHECK(strstr(doc, "library code folded"));
	CHECK(strstr(doc, "No samples from: 6000 idle"));
	/* no external resource: the only URL is the document's own gradient */
	CHECK_INT(count(doc, "url("), 1);
	CHECK(strstr(doc, "url(#background)"));
	CHECK(!strstr(doc, "href") && !strstr(doc, "http://www.w3.org/1999/xhtml"));

	/* one graph per process with samples, the largest first, each as wide as its time */
	CHECK_INT(v->graphs, 2);
	CHECK_INT(v->graph_ns[0], P4242_W * W);
	CHECK_INT(v->graph_ns[1], P5000_W * W);
	CHECK(strstr(doc, "data-ns=\""
			  "167167167\"")); /* ALL_W * W on the root */
	CHECK(strstr(doc, "Process 4242 python3 — python3 app.py — Python 3.12.1: 152 ms, "
			  "91.0% of all, 2 threads</title>"));

	proc = find(v, 0, "Process 4242 python3");
	mainth = find(v, 0, "Thread 4242 MainThread");
	worker = find(v, 0, "Thread 4243 worker");
	mod = find(v, 0, "<module> (/srv/app.py:1)");
	mainf = find(v, 0, "main (/srv/app.py:10)");
	sleep = find(v, 0, "[sleep]");
	alpha = find(v, 0, "alpha (/srv/app.py:30)");
	zeta = find(v, 0, "zeta (/srv/app.py:40)");
	loads = find(v, 0, "loads (json/__init__.py:299)");
	group = find(v, 0, "[1 frame hidden]  json");
	cb = find(v, 0, "callback (/srv/app.py:20)");
	get = find(v, 0, "get (requests/api.py:62)");
	CHECK(proc && mainth && worker && mod && mainf && sleep && alpha && zeta && loads &&
	      group && cb && get);
	/* library code folds into its caller as in the text view: decode is not drawn */
	CHECK(!find(v, 0, "JSONDecoder.decode (json/decoder.py:332)"));
	if (!(proc && mainth && worker && mod && mainf && sleep && alpha && zeta && loads &&
	      group && cb && get))
		goto out;
	/* widths are time (ns), not sample counts: the worker's 20 samples weigh 40 */
	CHECK_INT(proc->w, P4242_W * W);
	CHECK_INT(proc->x, 0);
	CHECK(fabs(proc->rw - GRAPH_WIDTH) < 1e-9 && fabs(proc->rx - PAD) < 1e-9);
	CHECK_INT(mainth->w, MAIN_W * W);
	CHECK_INT(worker->w, WORKER_W * W);
	CHECK_INT(worker->x, MAIN_W * W);
	CHECK_INT(get->w, WORKER_W * W);
	CHECK_INT(sleep->w, 7 * W);
	CHECK_INT(mainf->w, MAIN_W * W);
	CHECK_INT(group->w, 50 * W);
	CHECK_INT(cb->w, 10 * W);
	/* flamegraph.pl's order: siblings by name, not by time (zeta has more than alpha) */
	CHECK_INT(sleep->x, 0);
	CHECK_INT(alpha->x, 7 * W);
	CHECK_INT(loads->x, 27 * W);
	CHECK_INT(zeta->x, 77 * W);
	CHECK(sleep < alpha && alpha < loads && loads < zeta); /* preorder */
	/* callers below their callees */
	check_child(proc, mainth);
	check_child(proc, worker);
	check_child(mainth, mod);
	check_child(mod, mainf);
	check_child(mainf, alpha);
	check_child(mainf, zeta);
	check_child(loads, group);
	check_child(group, cb);
	check_child(worker, get);
	CHECK_INT(proc->y - cb->y, 6 * 16);
	/* own code warm, library code blue, waits and markers grey, rows of processes pale */
	CHECK_STR(sleep->fill, "#c9c9c9");
	CHECK_STR(proc->fill, "#d9d6e4");
	CHECK(strcmp(alpha->fill, loads->fill));
	/* labels cut to their width, as flamegraph.pl: "..", or nothing under 3 characters */
	CHECK_STR(mainf->text, "main (/srv/app.py:10)");
	CHECK(strlen(sleep->text) < strlen("[sleep]") || !strcmp(sleep->text, "[sleep]"));
	/* the tooltip: time, share of the graph, self time, samples; the file in full */
	CHECK(strstr(doc, "<title>zeta (/srv/app.py:40)&#10;30.0 ms, 19.74%, self 30.0 ms, "
			  "30 samples</title>"));
	CHECK(strstr(doc, "<title>loads (json/__init__.py:299)&#10;50.1 ms, 32.89%, self 0.00 ms, "
			  "50 samples&#10;/usr/lib/python3.12/json/__init__.py</title>"));
	/* the hostile process has two sampled threads: a row for each */
	CHECK(find(v, 1, "Process 5000 <b>evil</b>") != NULL);
	CHECK(find(v, 1, "Thread 5001 <iframe src=x>") != NULL);
out:
	free(doc);
	free(v);
	frame_filter__free(filter);
	session__free(s);
}

/* --show-all draws library code; --show one file of it; no filter at all hides nothing. */
static void test_filters(void)
{
	struct session *s = fixture();
	struct frame_filter *filter = frame_filter__new();
	struct render_opts o = render_opts_default;
	struct svg *v = calloc(1, sizeof(*v));
	const struct frame *decode;
	char *doc, why[64];

	o.filter = filter;
	frame_filter__show_all(filter);
	doc = render_svg_of(s, &o, v);
	decode = find(v, 0, "JSONDecoder.decode (json/decoder.py:332)");
	CHECK(decode != NULL);
	if (decode)
		CHECK_INT(decode->w, 50 * W);
	CHECK(!strstr(doc, "frames hidden]") && !strstr(doc, "frame hidden]"));
	CHECK(!strstr(doc, "library code folded"));
	free(doc);
	frame_filter__free(filter);

	filter = frame_filter__new();
	o.filter = filter;
	CHECK_INT(
		frame_filter__add(filter, FILTER_SHOW_GLOB, "*/json/decoder.py", why, sizeof(why)),
		0);
	doc = render_svg_of(s, &o, v);
	CHECK(find(v, 0, "JSONDecoder.decode (json/decoder.py:332)") != NULL);
	CHECK(find(v, 0, "get (requests/api.py:62)") != NULL);
	free(doc);

	CHECK_INT(frame_filter__add(filter, FILTER_HIDE_GLOB, "/srv/app.py", why, sizeof(why)), 0);
	doc = render_svg_of(s, &o, v);
	CHECK(find(v, 0, "<module> (/srv/app.py:1)") != NULL); /* the first of a run stays */
	CHECK(find(v, 0, "main (/srv/app.py:10)") == NULL);
	free(doc);

	doc = render_svg_of(s, NULL, v);
	CHECK(find(v, 0, "JSONDecoder.decode (json/decoder.py:332)") != NULL);
	free(doc);
	free(v);
	frame_filter__free(filter);
	session__free(s);
}

/* -t: the children in the order they first ran, a flame chart. */
static void test_timeline(void)
{
	struct session *s = fixture();
	struct render_opts o = render_opts_default;
	struct svg *v = calloc(1, sizeof(*v));
	const struct frame *zeta, *alpha;
	char *doc;

	o.timeline = true;
	doc = render_svg_of(s, &o, v);
	/* processes too: 5000 ran first */
	CHECK_INT(v->graph_ns[0], P5000_W * W);
	zeta = find(v, 1, "zeta (/srv/app.py:40)");
	alpha = find(v, 1, "alpha (/srv/app.py:30)");
	CHECK(zeta && alpha);
	if (zeta && alpha) {
		CHECK_INT(zeta->x, 0);
		CHECK_INT(alpha->x, 30 * W);
	}
	CHECK(strstr(doc, "Time order (-t)"));
	free(doc);
	free(v);
	session__free(s);
}

/* --group-by none: one graph for every process, headed by its members. */
static void test_groups(void)
{
	struct session *s = fixture(), *g = session_group(s, GROUP_BY_NONE);
	struct frame_filter *filter = frame_filter__new();
	struct render_opts o = render_opts_default;
	struct svg *v = calloc(1, sizeof(*v));
	const struct frame *base;
	char *doc;

	o.filter = filter;
	o.group_by = GROUP_BY_NONE;
	doc = g ? render_svg_of(g, &o, v) : NULL;
	CHECK(doc != NULL);
	if (!doc)
		goto out;
	CHECK_INT(v->graphs, 1);
	CHECK_INT(v->graph_ns[0], ALL_W * W);
	base = &v->f[0];
	CHECK_STR(base->label, "3 processes (4242, 5000, 6000) python3 + <b>evil</b> + idle");
	CHECK_INT(base->w, ALL_W * W);
	CHECK(strstr(doc, "grouped by none: 3 processes in 1 group"));
	/* the MainThreads of the members are one thread */
	CHECK(find(v, 0, "2 threads MainThread") != NULL);
	CHECK(find(v, 0, "[1 frame hidden]  json") != NULL);
out:
	free(doc);
	free(v);
	frame_filter__free(filter);
	session__free(g);
	session__free(s);
}

/* Frames under 0.1 px are left out with their callees, as flamegraph.pl's --minwidth. */
static void test_min_width(void)
{
	struct session *s = session__new();
	struct svg *v = calloc(1, sizeof(*v));
	struct session_frame fb = { "big", "a.py", 1, 1, FRAME_PYTHON };
	struct session_frame ft = { "tiny", "a.py", 2, 2, FRAME_PYTHON };
	struct session_frame fs = { "small", "a.py", 3, 3, FRAME_PYTHON };
	struct session_frame fc = { "callee", "a.py", 4, 4, FRAME_PYTHON };
	uint64_t t = 0;
	int64_t th;
	char *doc;

	session__add_process(
		s, &(struct session_process){ 1, 1, "p", "p", "", "3.12", "", 0, "", "", 0, NULL });
	th = session__add_thread(s, 0, 1, "");
	add_n(s, th, session__intern_stack(s, 0, session__intern_frame(s, &fb)), 20000, W, &t);
	/* 1 of 20003 samples is 0.059 px; 2 are 0.118 */
	add_n(s, th,
	      session__intern_stack(s, session__intern_stack(s, 0, session__intern_frame(s, &ft)),
				    session__intern_frame(s, &fc)),
	      1, W, &t);
	add_n(s, th, session__intern_stack(s, 0, session__intern_frame(s, &fs)), 2, W, &t);
	doc = render_svg_of(s, NULL, v);
	CHECK(find(v, 0, "big (a.py:1)") != NULL);
	CHECK(find(v, 0, "small (a.py:3)") != NULL);
	CHECK(find(v, 0, "tiny (a.py:2)") == NULL);
	CHECK(find(v, 0, "callee (a.py:4)") == NULL);
	/* what is left out still counts: the base is the whole time */
	CHECK_INT(v->f[0].w, 20003 * W);
	free(doc);
	free(v);
	session__free(s);
}

/*
 * Past 50000 frames the narrowest go too, whole: 60 call chains 1000 deep, chain i weighing
 * i + 1 samples. The widest chains stay, the narrowest go, the graph says so.
 */
static void test_max_frames(void)
{
	struct session *s = session__new();
	uint32_t *tops = calloc(60, sizeof(*tops));
	char *doc, name[32], *script;
	size_t frames, first_chain;
	uint64_t t = 0;
	int64_t th;
	int i, k, err;

	session__add_process(
		s, &(struct session_process){ 1, 1, "p", "p", "", "3.12", "", 0, "", "", 0, NULL });
	th = session__add_thread(s, 0, 1, "");
	for (i = 0; i < 60; i++) {
		uint32_t node = 0;

		for (k = 0; k < 1000; k++) {
			struct session_frame f = { name, "deep.py", k + 1, k + 1, FRAME_PYTHON };

			snprintf(name, sizeof(name), "c%02d_%03d", i, k);
			node = session__intern_stack(s, node, session__intern_frame(s, &f));
		}
		tops[i] = node;
		add_n(s, th, node, i + 1, W, &t);
	}
	doc = render(&render_svg, s, NULL, &err);
	CHECK_INT(err, 0);
	if (!doc)
		goto out;
	script = strstr(doc, "<script");
	if (script)
		*script = '\0';
	frames = count(doc, "<g class=\"f\"");
	CHECK(frames <= 50000 && frames > 25000);
	/* whole chains: the 1000 frames of a chain, or none of them */
	CHECK_INT((frames - 1) % 1000, 0);
	first_chain = 60 - (frames - 1) / 1000;
	snprintf(name, sizeof(name), ">c%02zu_999 (deep.py:1000)&#10;", first_chain);
	CHECK_INT(count(doc, name), 1);
	snprintf(name, sizeof(name), ">c%02zu_000 (deep.py:1)&#10;", first_chain - 1);
	CHECK_INT(count(doc, name), 0);
	CHECK_INT(count(doc, ">c59_999 (deep.py:1000)&#10;"), 1);
	CHECK_INT(count(doc, " px left out"), 2); /* the note and its tooltip */
	free(doc);
out:
	free(tops);
	session__free(s);
}

static void test_hostile(void)
{
	struct session *s = fixture();
	struct frame_filter *filter = frame_filter__new();
	struct render_opts o = render_opts_default;
	struct svg *v = calloc(1, sizeof(*v));
	const char *path = getenv("PYFLARE_SVG_HOSTILE_OUT");
	const unsigned char *p;
	char *doc;

	o.filter = filter;
	doc = render_svg_of(s, &o, v);
	if (!doc)
		goto out;
	CHECK(valid_utf8(doc));
	/* nothing XML 1.0 refuses: no control character but newlines and the script's tabs */
	for (p = (const unsigned char *)doc; *p; p++)
		if (*p < 0x20 && *p != '\n' && *p != '\t')
			break;
	CHECK(!*p);
	CHECK(!strstr(doc, "\xef\xbf\xbe") && !strstr(doc, "\xef\xbf\xbf"));
	CHECK(!strstr(doc, "\xe2\x80\xa8"));
	/* the document's one script, style, comment and two CDATA sections, nothing more */
	CHECK_INT(count(doc, "<script"), 1);
	CHECK_INT(count(doc, "</script"), 1);
	CHECK_INT(count(doc, "<![CDATA["), 2);
	CHECK_INT(count(doc, "]]>"), 2);
	CHECK_INT(count(doc, "<!--"), 1);
	CHECK_INT(count(doc, "-->"), 1);
	CHECK_INT(count(doc, "<svg"), 1);
	CHECK(!strstr(doc, "<img") && !strstr(doc, "<b>") && !strstr(doc, "<i>") &&
	      !strstr(doc, "<iframe"));
	/* each name shown as text, as the text view shows it */
	CHECK(find(v, 1, SCRIPT " (<img src=x onerror=alert(2)>.py:1)") != NULL);
	CHECK(strstr(doc, "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; (&lt;img src=x "
			  "onerror=alert(2)&gt;.py:1)"));
	CHECK(find(v, 1, CDATA " (x.py:3)") != NULL);
	CHECK(find(v, 1, "a\\x01b\\x1b[31mc\\x7f (x.py:4)") != NULL);
	CHECK(find(v, 1, "x\\u2028y (x.py:5)") != NULL);
	CHECK(find(v, 1, "n\\ufffe\\uffff (x.py:6)") != NULL);
	CHECK(find(v, 1, "caf\\xe9\\xff (/tmp/\\xc3(.py:7)") != NULL);
	CHECK(find(v, 1, "say \"hi\" it's & <b> (x.py:7)") != NULL);
	CHECK(strstr(doc, "say &quot;hi&quot; it&#39;s &amp; &lt;b&gt; (x.py:7)"));
	CHECK(find(v, 1, COMMENT " (x.py:8)") != NULL);
	CHECK(find(v, 1, "<truncated>") != NULL);
	CHECK(find(v, 1, "Thread 5000 <svg onload=alert(3)>") != NULL);
	CHECK(find(v, 1, "Process 5000 <b>evil</b>") != NULL);
	CHECK(strstr(doc, "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;\\x01 — "
			  "Python 3.11.4"));
	CHECK(strstr(doc, "unsupported &lt;/script&gt; 3.15"));
	CHECK(strstr(doc, "&lt;i&gt;x&lt;/i&gt;"));
out:
	if (path && doc) {
		FILE *f = fopen(path, "w");

		CHECK(f != NULL);
		if (f) {
			fputs(doc, f);
			fclose(f);
		}
	}
	free(doc);
	free(v);
	frame_filter__free(filter);
	session__free(s);
}

static void test_empty(void)
{
	struct session *s = session__new();
	struct svg *v = calloc(1, sizeof(*v));
	char *doc;

	doc = render_svg_of(s, NULL, v);
	CHECK(doc && strstr(doc, "No samples: no Python process was found"));
	CHECK_INT(v->graphs, 0);
	CHECK(doc && strstr(doc, "</svg>\n"));
	free(doc);
	free(v);
	CHECK_INT(render_svg.render(NULL, NULL, stdout), -EINVAL);
	session__free(s);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	RUN(test_registry);
	RUN(test_structure);
	RUN(test_filters);
	RUN(test_timeline);
	RUN(test_groups);
	RUN(test_min_width);
	RUN(test_max_frames);
	RUN(test_hostile);
	RUN(test_empty);
	return test_summary();
}
