/* SPDX-License-Identifier: MIT */
/*
 * render_svg.c — a flame graph in one self-contained SVG file, as flamegraph.pl draws one
 * (py-spy's default output): one graph per process (or per group under --group-by), stacked,
 * callers below their callees, each frame as wide as its time. The tree is the text view's
 * (render_tree.c): library code folded into "[N frames hidden]" frames, --hide/--show/--show-all
 * honoured. The interactivity (html/flamegraph.js, compiled in) zooms, searches and shows
 * details.
 *
 * Every name is shown as the text view shows it (render_put_safe: control characters and
 * invisible code points as \xNN / \uNNNN) and then escaped for XML; no name is written into the
 * script, which reads them back from the document as text.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render/frame_filter.h"
#include "html_assets.h" /* generated from html/ by the Makefile: flamegraph_js */
#include "render/render.h"
#include "render/render_tree.h"
#include "render/render_util.h"
#include "session/health.h"
#include "lib/utf8.h"
#include "lib/saturate.h"

#define SVG_WIDTH 1200
#define PAD 10				  /* left and right margins */
#define GRAPH_WIDTH (SVG_WIDTH - 2 * PAD) /* the width of every graph's base */
#define FRAME_H 16			  /* a row; its rectangle is one pixel less */
#define FONT_SIZE 12
#define FONT_WIDTH 0.59 /* flamegraph.pl's average glyph width, in ems */
#define MIN_WIDTH 0.1	/* narrower frames are left out (flamegraph.pl) */
/*
 * At most about this many frames (a frame is some 300 bytes and 4 elements): past it, the
 * narrowest are left out too, so that a host-wide recording still opens in seconds.
 */
#define MAX_FRAMES 50000
#define TOP_H 112    /* title, subtitles, details line */
#define HEADING_H 22 /* a graph's heading above its rows */
#define GRAPH_GAP 14
#define TITLE_CHARS 90 /* the title sits between the two buttons */

enum palette {
	PAL_APP,    /* the program's own code: warm */
	PAL_LIB,    /* library code (shown): blue */
	PAL_MARKER, /* <truncated>, [sleep], ...: grey */
	PAL_META,   /* process and thread rows */
};

/* A frame of the depth-first walk that lays out the graph. */
struct svg_walk {
	uint32_t node;
	uint32_t next; /* the next child to look at */
	uint64_t x;    /* where that child starts, ns from the graph's left */
};

struct svg {
	FILE *out;
	const struct session *s;
	const struct render_opts *o;
	struct render_tree t;
	const struct session_process *procs;
	const struct session_thread *threads;
	uint64_t all_ns; /* every graph's time: shares of all */
	double min_px;	 /* narrower frames are left out: MIN_WIDTH or more */
	size_t cut;	 /* frames MAX_FRAMES left out (at least) */
	uint32_t *depth; /* per graph (root child): its rows - 1 */
	struct svg_walk *stack;
};

/* --- text ------------------------------------------------------------------------------------- */

/*
 * Writes @str (valid UTF-8 as render_put_safe leaves it) as XML character data or attribute
 * value: markup characters as references, and anything XML 1.0 cannot hold (control characters,
 * U+FFFE, U+FFFF, ill-formed bytes) as \xNN or \uNNNN, so the document always parses.
 */
static void put_xml(FILE *out, const char *str)
{
	const unsigned char *p = (const unsigned char *)(str ? str : "");

	while (*p) {
		uint32_t c;
		size_t n;

		for (n = 0; p[n] >= 0x20 && p[n] < 0x7f && !strchr("<>&\"'", p[n]); n++)
			;
		if (n) {
			fwrite(p, 1, n, out);
			p += n;
			continue;
		}
		n = utf8_decode(p, &c);
		if (!n) {
			fprintf(out, "\\x%02x", *p++);
			continue;
		}
		switch (c) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(out, "\\x%02x", c);
			else if (c == 0xfffe || c == 0xffff)
				fprintf(out, "\\u%04x", c);
			else
				fwrite(p, 1, n, out);
		}
		p += n;
	}
}

/* Code points in @s (valid UTF-8). */
static size_t count_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/*
 * Cuts @s in place to @chars characters, as flamegraph.pl does: nothing under 3, else the
 * first ones and "..". The script does the same when it zooms.
 */
static void fit_chars(char *s, size_t chars)
{
	size_t n = 0;
	char *p;

	if (chars < 3) {
		*s = '\0';
		return;
	}
	if (count_chars(s) <= chars)
		return;
	/* the cut drops at least two characters: ".." fits in their place */
	for (p = s; *p; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80 && n++ == chars - 2)
			break;
	}
	strcpy(p, "..");
}

/* Cuts @s to what @width pixels of 12px text hold. */
static void fit(char *s, double width)
{
	fit_chars(s, width > 0 ? (size_t)floor(width / (FONT_SIZE * FONT_WIDTH)) : 0);
}

/* A growing string built with stdio: the shared writers (render_put_safe, ...) write to it. */
struct text {
	char *buf;
	size_t len;
	FILE *f;
};

static FILE *text_open(struct text *t)
{
	t->buf = NULL;
	t->len = 0;
	t->f = open_memstream(&t->buf, &t->len);
	return t->f;
}

/* Ends the string: returns it (the caller frees it), NULL without memory. */
static char *text_close(struct text *t)
{
	if (!t->f)
		return NULL;
	if (fclose(t->f)) {
		free(t->buf);
		return NULL;
	}
	/* the shared lines end with a newline: not in an SVG text */
	while (t->len && t->buf[t->len - 1] == '\n')
		t->buf[--t->len] = '\0';
	return t->buf;
}

/* "1.234 s" or "12.3 ms": short, three significant digits or more. */
static void format_time(char *buf, size_t len, uint64_t ns)
{
	double ms = ns / 1e6;

	if (ns >= 999500000ULL)
		snprintf(buf, len, "%.3f s", ns / 1e9);
	else
		snprintf(buf, len, "%.*f ms", ms >= 99.95 ? 0 : ms >= 9.995 ? 1 : 2, ms);
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * part / whole : 100.0;
}

/* --- frames ----------------------------------------------------------------------------------- */

static uint64_t name_hash(const char *s)
{
	uint64_t h = 2166136261u;

	for (; s && *s; s++)
		h = ((h ^ (unsigned char)*s) * 16777619u) & 0xffffffffu;
	return h;
}

static void put_hsl(FILE *out, double h, double s, double l)
{
	double c = (1 - fabs(2 * l - 1)) * s, hp = fmod(h, 360) / 60;
	double x = c * (1 - fabs(fmod(hp, 2) - 1)), m = l - c / 2, r = 0, g = 0, b = 0;

	switch ((int)hp) {
	case 0:
		r = c, g = x;
		break;
	case 1:
		r = x, g = c;
		break;
	case 2:
		g = c, b = x;
		break;
	case 3:
		g = x, b = c;
		break;
	case 4:
		r = x, b = c;
		break;
	default:
		r = c, b = x;
	}
	fprintf(out, "#%02x%02x%02x", (int)lround((r + m) * 255), (int)lround((g + m) * 255),
		(int)lround((b + m) * 255));
}

/* The HTML report's colours (report.js): warm for the program's own code, blue for libraries. */
static void put_fill(FILE *out, enum palette pal, const char *name)
{
	uint64_t h = name_hash(name);

	switch (pal) {
	case PAL_APP:
		put_hsl(out, 14 + h % 34, (72 + (h >> 8) % 18) / 100.0,
			(58 + (h >> 16) % 12) / 100.0);
		break;
	case PAL_LIB:
		put_hsl(out, 196 + h % 24, 0.45, (66 + (h >> 8) % 10) / 100.0);
		break;
	case PAL_MARKER:
		fputs("#c9c9c9", out);
		break;
	default:
		fputs("#d9d6e4", out);
	}
}

/*
 * What node @id shows: its label (line 1 of its tooltip, what a search looks at), the file's
 * full path when the label shortens it, and its palette. Returns 0 or -ENOMEM.
 */
static int describe(struct svg *x, uint32_t id, const struct session_process *p, char **label,
		    char **path, enum palette *pal)
{
	const struct render_node *n = &x->t.nodes[id];
	struct text l, f = { 0 };

	*path = NULL;
	if (!text_open(&l))
		return -ENOMEM;
	*pal = PAL_META;
	if (n->kind == RENDER_NODE_PROCESS) {
		/* the graph's heading says the rest: command line, version */
		if (render_is_group(p)) {
			char members[RENDER_MEMBERS_LEN];

			render_format_members(members, p, true);
			fprintf(l.f, "%u processes (%s) ", p->nmembers, members);
		} else {
			fprintf(l.f, "Process %u ", p->pid);
		}
		render_put_safe(l.f, *p->comm ? p->comm : "?", NULL);
	} else if (n->kind == RENDER_NODE_THREAD) {
		const struct session_thread *th = &x->threads[n->ref];

		if (render_is_merged_thread(th))
			fprintf(l.f, "%u threads", th->nmembers);
		else
			fprintf(l.f, "Thread %u", th->tid);
		if (*th->name) {
			putc(' ', l.f);
			render_put_safe(l.f, th->name, NULL);
		}
	} else if (n->kind == RENDER_NODE_GROUP) {
		const struct render_group *g = &x->t.groups[n->ref];

		fprintf(l.f, "[%u frame%s hidden]", g->nframes, g->nframes == 1 ? "" : "s");
		if (g->libs[0]) {
			fputs("  ", l.f);
			render_put_safe(l.f, g->libs, NULL);
		}
		*pal = PAL_LIB;
	} else {
		const struct session_frame *fr = &x->t.stacks.frames.frames[n->ref];

		render_put_safe(l.f, render_frame_name(fr), NULL);
		*pal = PAL_MARKER;
		if (fr->kind == FRAME_PYTHON) {
			const char *shortp = render_short_path(p, fr->file);

			fputs(" (", l.f);
			render_put_safe(l.f, shortp, NULL);
			if (fr->line)
				fprintf(l.f, ":%u", fr->line);
			putc(')', l.f);
			*pal = frame_is_library(p, fr->file) ? PAL_LIB : PAL_APP;
			if (strcmp(shortp, fr->file)) {
				if (!text_open(&f)) {
					free(text_close(&l));
					return -ENOMEM;
				}
				render_put_safe(f.f, fr->file, NULL);
			}
		}
	}
	*label = text_close(&l);
	*path = f.f ? text_close(&f) : NULL;
	if (!*label || (f.f && !*path)) {
		free(*label);
		free(*path);
		return -ENOMEM;
	}
	return 0;
}

/* A frame of graph @g (total @total ns) at @off ns from its left, @depth rows up from its base. */
static int put_frame(struct svg *x, uint32_t id, const struct session_process *p, uint64_t off,
		     uint64_t total, uint32_t depth, int base_y)
{
	const struct render_node *n = &x->t.nodes[id];
	double scale = total ? (double)GRAPH_WIDTH / total : 0;
	double fx = PAD + off * scale, fw = n->total_ns * scale;
	int y = base_y - (int)depth * FRAME_H;
	char *label, *path, t1[32], t2[32];
	enum palette pal;
	FILE *out = x->out;
	int err;

	err = describe(x, id, p, &label, &path, &pal);
	if (err)
		return err;
	format_time(t1, sizeof(t1), n->total_ns);
	format_time(t2, sizeof(t2), n->self_ns);
	fprintf(out, "<g class=\"f\" data-x=\"%llu\" data-w=\"%llu\"><title>",
		(unsigned long long)off, (unsigned long long)n->total_ns);
	put_xml(out, label);
	fprintf(out, "&#10;%s, %.2f%%, self %s, %llu sample%s", t1, share(n->total_ns, total), t2,
		(unsigned long long)n->samples, n->samples == 1 ? "" : "s");
	if (path) {
		fputs("&#10;", out);
		put_xml(out, path);
	}
	fprintf(out,
		"</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" rx=\"2\" "
		"fill=\"",
		fx, y, fw, FRAME_H - 1);
	/* a function keeps its colour wherever it is called from, as in the HTML report */
	put_fill(out, pal,
		 n->kind == RENDER_NODE_FRAME ?
			 render_frame_name(&x->t.stacks.frames.frames[n->ref]) :
		 n->kind == RENDER_NODE_GROUP ? "[frames hidden]" :
						label);
	fprintf(out, "\"/><text x=\"%.2f\" y=\"%.1f\">", fx + 3, y + 10.5);
	fit(label, fw);
	put_xml(out, label);
	fputs("</text></g>\n", out);
	free(label);
	free(path);
	return 0;
}

/* --- graphs ----------------------------------------------------------------------------------- */

/* A frame's width in pixels. Never more than its caller's: ns <= the caller's. */
static double px(uint64_t ns, uint64_t total)
{
	return total ? (double)ns * GRAPH_WIDTH / (double)total : 0;
}

static int by_width_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x > y ? -1 : x < y;
}

/*
 * The narrowest frame drawn: MIN_WIDTH, or past MAX_FRAMES the width that keeps the widest
 * MAX_FRAMES. As no frame is wider than its caller, the frames at least that wide are whole
 * call paths: a frame is never drawn without its callers.
 */
static int choose_min_width(struct svg *x)
{
	const struct render_tree *t = &x->t;
	uint64_t *graph_ns = malloc((t->n ? t->n : 1) * sizeof(*graph_ns));
	double *widths = NULL, cut;
	size_t i, n = 0, above;

	x->min_px = MIN_WIDTH;
	if (!graph_ns)
		return -ENOMEM;
	/* a node's graph is its process's: parents come before their children */
	for (i = 1; i < t->n; i++) {
		graph_ns[i] = t->nodes[i].kind == RENDER_NODE_PROCESS ?
				      t->nodes[i].total_ns :
				      graph_ns[t->nodes[i].parent];
		n += px(t->nodes[i].total_ns, graph_ns[i]) >= MIN_WIDTH;
	}
	if (n <= MAX_FRAMES)
		goto out;
	widths = malloc(n * sizeof(*widths));
	if (!widths) {
		free(graph_ns);
		return -ENOMEM;
	}
	for (i = 1, n = 0; i < t->n; i++) {
		double w = px(t->nodes[i].total_ns, graph_ns[i]);

		if (w >= MIN_WIDTH)
			widths[n++] = w;
	}
	qsort(widths, n, sizeof(*widths), by_width_desc);
	cut = widths[MAX_FRAMES];
	for (above = MAX_FRAMES; above && widths[above - 1] == cut; above--)
		;
	/* frames as wide as the first left out go too, unless that leaves too few */
	x->min_px = above >= MAX_FRAMES / 2 ? nextafter(cut, INFINITY) : cut;
	for (above = 0; above < n && widths[above] >= x->min_px; above++)
		;
	x->cut = n - above;
out:
	free(widths);
	free(graph_ns);
	return 0;
}

/* What a node sorts by: a frame's name; a run of hidden frames by its bracket. */
static const char *sort_name(const struct render_tree *t, const struct render_node *n)
{
	if (n->kind == RENDER_NODE_FRAME)
		return render_frame_name(&t->stacks.frames.frames[n->ref]);
	return n->kind == RENDER_NODE_GROUP ? "[frames hidden]" : "";
}

/* Children in flamegraph.pl's order: by name (then file and line), not by time. */
static int alpha_cmp(const void *a, const void *b, void *arg)
{
	const struct render_tree *t = arg;
	const struct render_node *x = &t->nodes[*(const uint32_t *)a];
	const struct render_node *y = &t->nodes[*(const uint32_t *)b];
	int c = strcmp(sort_name(t, x), sort_name(t, y));

	if (!c && x->kind == RENDER_NODE_FRAME && y->kind == RENDER_NODE_FRAME) {
		const struct session_frame *fx = &t->stacks.frames.frames[x->ref];
		const struct session_frame *fy = &t->stacks.frames.frames[y->ref];

		c = strcmp(fx->file, fy->file);
		if (!c && fx->line != fy->line)
			c = fx->line < fy->line ? -1 : 1;
	}
	if (!c && x->kind != y->kind)
		c = x->kind < y->kind ? -1 : 1;
	return c ? c : (x->ref < y->ref ? -1 : x->ref > y->ref);
}

static void sort_alphabetically(struct render_tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct render_node *n = &t->nodes[i];

		/* processes and threads stay largest first; frames go by name */
		if (n->nchildren > 1 && n->kind != RENDER_NODE_ROOT &&
		    t->nodes[t->children[n->first_child]].kind != RENDER_NODE_THREAD)
			qsort_r(&t->children[n->first_child], n->nchildren, sizeof(uint32_t),
				alpha_cmp, t);
	}
}

/*
 * Walks graph @top in preorder, frames narrower than min_px left out with what they call:
 * draws each frame when @base_y is set, else returns the deepest row's depth.
 */
static int64_t walk(struct svg *x, uint32_t top, int base_y)
{
	const struct render_tree *t = &x->t;
	const struct session_process *p = &x->procs[t->nodes[top].ref];
	uint64_t total = t->nodes[top].total_ns;
	int64_t deepest = 0;
	int sp = 0, err;

	if (base_y && (err = put_frame(x, top, p, 0, total, 0, base_y)))
		return err;
	x->stack[0] = (struct svg_walk){ .node = top };
	while (sp >= 0) {
		struct svg_walk *e = &x->stack[sp];
		const struct render_node *n = &t->nodes[e->node];
		uint32_t c;
		uint64_t off;

		if (e->next == n->nchildren) {
			sp--;
			continue;
		}
		c = t->children[n->first_child + e->next++];
		off = e->x;
		e->x = sat_add(e->x, t->nodes[c].total_ns);
		if (px(t->nodes[c].total_ns, total) < x->min_px)
			continue;
		sp++;
		if (sp > deepest)
			deepest = sp;
		if (base_y && (err = put_frame(x, c, p, off, total, sp, base_y)))
			return err;
		x->stack[sp] = (struct svg_walk){ .node = c, .x = off };
	}
	return deepest;
}

/* "Process 4242 python3 — python3 app.py — Python 3.12.1: 1.234 s, 45.6% of all, 3 threads" */
static char *heading(struct svg *x, uint32_t top)
{
	const struct render_node *n = &x->t.nodes[top];
	uint32_t i, threads = 0;
	struct text h;
	char t[32], more[32] = "", *line, *ret;

	for (i = 0; i < n->nchildren; i++)
		threads += x->t.nodes[x->t.children[n->first_child + i]].kind == RENDER_NODE_THREAD;
	if (!text_open(&h))
		return NULL;
	render_put_process_line(h.f, &x->procs[n->ref], false, true);
	line = text_close(&h);
	if (!line)
		return NULL;
	format_time(t, sizeof(t), n->total_ns);
	if (threads)
		snprintf(more, sizeof(more), ", %u threads", threads);
	if (asprintf(&ret, "%s: %s, %.1f%% of all%s", line, t, share(n->total_ns, x->all_ns),
		     more) < 0)
		ret = NULL;
	free(line);
	return ret;
}

static int put_graph(struct svg *x, uint32_t top, uint32_t depth, int y)
{
	const struct render_node *n = &x->t.nodes[top];
	char *head = heading(x, top);
	int64_t err;

	if (!head)
		return -ENOMEM;
	fprintf(x->out,
		"<g class=\"graph\" data-ns=\"%llu\" data-pid=\"%u\">\n"
		"<text class=\"heading\" x=\"%d\" y=\"%d\"><title>",
		(unsigned long long)n->total_ns, x->procs[n->ref].pid, PAD, y + 14);
	put_xml(x->out, head);
	fputs("</title>", x->out);
	fit(head, GRAPH_WIDTH);
	put_xml(x->out, head);
	fputs("</text>\n", x->out);
	free(head);
	err = walk(x, top, y + HEADING_H + (int)depth * FRAME_H);
	fputs("</g>\n", x->out);
	return err < 0 ? (int)err : 0;
}

/* --- the document ----------------------------------------------------------------------------- */

static const char svg_style[] =
	"text { font-family: Verdana, \"DejaVu Sans\", sans-serif; font-size: 12px; fill: #000; }\n"
	"#title { text-anchor: middle; font-size: 17px; }\n"
	".sub { text-anchor: middle; fill: #444; }\n"
	".heading { font-weight: bold; }\n"
	"#search, #matched { text-anchor: end; }\n"
	"#search, #unzoom { cursor: pointer; fill: #036; }\n"
	"#search:hover, #unzoom:hover { text-decoration: underline; }\n"
	"g.f text { pointer-events: none; }\n"
	"g.f:hover rect { stroke: #000; stroke-width: 0.5; cursor: pointer; }\n"
	"g.f.parent { opacity: 0.5; }\n"
	".hide { display: none; }\n";

/* A <text> of the header: @cls, centred at @y, of the display string @s (cut to fit). */
static void put_line(FILE *out, const char *id, const char *cls, int y, char *s, size_t chars)
{
	fputs("<text", out);
	if (id)
		fprintf(out, " id=\"%s\"", id);
	if (cls)
		fprintf(out, " class=\"%s\"", cls);
	fprintf(out, " x=\"%d\" y=\"%d\"><title>", SVG_WIDTH / 2, y);
	put_xml(out, s);
	fputs("</title>", out);
	fit_chars(s, chars);
	put_xml(out, s);
	fputs("</text>\n", out);
}

static int put_header(struct svg *x, int height)
{
	const struct session_meta *m = session__meta(x->s);
	FILE *out = x->out;
	size_t nsamples, nprocs, i, members = 0;
	struct text l;
	char total[32], duration[32], when[64], health[1024], *s;
	bool wall = !strcmp(m->mode, "wall");

	nsamples = session__nsamples(x->s);
	session__processes(x->s, &nprocs);
	format_time(total, sizeof(total), x->all_ns);
	render_format_time(duration, sizeof(duration), m->duration_ns, " s");
	render_format_local_time(when, sizeof(when), m->start_realtime_ns);

	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"xmlns=\"http://www.w3.org/2000/svg\" data-pad=\"%d\" data-graph-width=\"%d\" "
		"data-ns=\"%llu\">\n",
		SVG_WIDTH, height, SVG_WIDTH, height, PAD, GRAPH_WIDTH,
		(unsigned long long)x->all_ns);
	fputs("<!-- pyflare " PYFLARE_VERSION ": a flame graph. Click a frame to zoom, Ctrl-F or "
	      "/ to search, Esc to reset. -->\n",
	      out);
	fprintf(out,
		"<defs><linearGradient id=\"background\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">"
		"<stop stop-color=\"#eeeeee\" offset=\"5%%\"/><stop stop-color=\"#eeeeb0\" "
		"offset=\"95%%\"/></linearGradient></defs>\n"
		"<style type=\"text/css\"><![CDATA[\n%s]]></style>\n"
		"<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"url(#background)\"/>\n",
		svg_style, SVG_WIDTH, height);

	/* the title: the target */
	if (!text_open(&l))
		return -ENOMEM;
	fputs("pyflare: ", l.f);
	render_put_safe(l.f, *m->target ? m->target : "profile", NULL);
	s = text_close(&l);
	if (!s)
		return -ENOMEM;
	put_line(out, "title", NULL, 24, s, TITLE_CHARS);
	free(s);

	/* the mode and the total time, then how it was recorded */
	if (!text_open(&l))
		return -ENOMEM;
	render_put_safe(l.f, *m->mode ? m->mode : "?", NULL);
	fprintf(l.f, " mode: %s %s in %zu sample%s, %u Hz ", total,
		wall ? "on and off CPU" : "on CPU", nsamples, nsamples == 1 ? "" : "s", m->rate_hz);
	render_put_safe(l.f, m->clock && *m->clock ? m->clock : "timer", NULL);
	fprintf(l.f, " on %u CPU%s; recorded %s for %s; %s granularity", m->ncpus,
		m->ncpus == 1 ? "" : "s", when, duration,
		render_granularity_name(x->o->granularity));
	if (x->o->group_by != GROUP_BY_PROCESS) {
		const struct session_process *p = session__processes(x->s, &nprocs);

		for (i = 0; i < nprocs; i++)
			members += render_is_group(&p[i]) ? p[i].nmembers : 1;
		fprintf(l.f, "; grouped by %s: %zu process%s in %zu group%s",
			group_by_name(x->o->group_by), members, members == 1 ? "" : "es", nprocs,
			nprocs == 1 ? "" : "s");
	}
	s = text_close(&l);
	if (!s)
		return -ENOMEM;
	put_line(out, "subtitle", "sub", 44, s, GRAPH_WIDTH / (FONT_SIZE * FONT_WIDTH));
	free(s);

	/* the health, its names escaped like every other */
	if (!text_open(&l))
		return -ENOMEM;
	health_format(x->s, health, sizeof(health));
	fputs("Health: ", l.f);
	render_put_safe(l.f, health, NULL);
	s = text_close(&l);
	if (!s)
		return -ENOMEM;
	put_line(out, "health", "sub", 62, s, GRAPH_WIDTH / (FONT_SIZE * FONT_WIDTH));
	free(s);

	if (!text_open(&l))
		return -ENOMEM;
	fputs(x->o->timeline ? "Time order (-t), a flame chart" :
			       "Alphabetical order, as flamegraph.pl's",
	      l.f);
	if (x->t.ngroups)
		fputs("; library code folded: [N frames hidden] (--show-all)", l.f);
	if (x->cut)
		fprintf(l.f, "; %zu frames under %.2f px left out", x->cut, x->min_px);
	fputs(". Click a frame to zoom; Ctrl-F or / to search; Esc to reset", l.f);
	s = text_close(&l);
	if (!s)
		return -ENOMEM;
	put_line(out, "note", "sub", 80, s, GRAPH_WIDTH / (FONT_SIZE * FONT_WIDTH));
	free(s);

	fprintf(out,
		"<text id=\"unzoom\" class=\"hide\" x=\"%d\" y=\"24\">Reset Zoom</text>\n"
		"<text id=\"search\" x=\"%d\" y=\"24\">Search</text>\n"
		"<text id=\"matched\" class=\"hide\" x=\"%d\" y=\"%d\"> </text>\n"
		"<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n",
		PAD, SVG_WIDTH - PAD, SVG_WIDTH - PAD, TOP_H - 12, PAD, TOP_H - 12);
	return ferror(out) ? -EIO : 0;
}

/* Below the graphs: why there are none, and the processes that were never sampled. */
static int put_footer(struct svg *x, int y)
{
	size_t nprocs, i, n_idle = 0;
	const struct session_process *procs = session__processes(x->s, &nprocs);
	struct text l;
	char *s, *line, *next;

	if (!text_open(&l))
		return -ENOMEM;
	if (!x->t.nodes[0].samples)
		render_put_no_samples(l.f, x->s);
	for (i = 0; i < nprocs; i++)
		if (!x->t.process_node[i])
			render_put_idle_process(l.f, &procs[i], &n_idle, true);
	s = text_close(&l);
	if (!s)
		return -ENOMEM;
	/* one <text> per line */
	for (line = strtok_r(s, "\n", &next); line; line = strtok_r(NULL, "\n", &next)) {
		fprintf(x->out, "<text class=\"footer\" x=\"%d\" y=\"%d\">", PAD, y + 12);
		fit(line, GRAPH_WIDTH);
		put_xml(x->out, line);
		fputs("</text>\n", x->out);
		y += FRAME_H;
	}
	free(s);
	return 0;
}

/* The footer's rows: one per line it will write. */
static int footer_rows(struct svg *x)
{
	size_t nprocs, i;
	int rows = !x->t.nodes[0].samples;

	session__processes(x->s, &nprocs);
	for (i = 0; i < nprocs; i++)
		if (!x->t.process_node[i]) {
			rows++;
			break;
		}
	return rows;
}

static int svg_render(const struct session *s, const struct render_opts *o, FILE *out)
{
	struct svg x = { .out = out, .s = s, .o = o ? o : &render_opts_default };
	const struct render_node *root;
	size_t n, i;
	int err, y, height;

	if (!s || !out)
		return -EINVAL;
	x.procs = session__processes(s, &n);
	x.threads = session__threads(s, &n);
	err = render_tree__build_view(&x.t, s, x.o, RENDER_THREADS_AUTO);
	if (err)
		return err;
	if (!x.o->timeline)
		sort_alphabetically(&x.t);
	err = choose_min_width(&x);
	if (err)
		goto out;
	root = &x.t.nodes[0];
	x.all_ns = root->total_ns;
	/* rows sit at most two levels (process, thread) above the deepest frame */
	x.stack = calloc(x.t.stacks.max_depth + 4, sizeof(*x.stack));
	x.depth = calloc(root->nchildren ? root->nchildren : 1, sizeof(*x.depth));
	if (!x.stack || !x.depth) {
		err = -ENOMEM;
		goto out;
	}
	height = TOP_H;
	for (i = 0; i < root->nchildren; i++) {
		x.depth[i] = (uint32_t)walk(&x, x.t.children[root->first_child + i], 0);
		height += HEADING_H + (x.depth[i] + 1) * FRAME_H + GRAPH_GAP;
	}
	height += footer_rows(&x) * FRAME_H + PAD;

	err = put_header(&x, height);
	y = TOP_H;
	for (i = 0; !err && i < root->nchildren; i++) {
		err = put_graph(&x, x.t.children[root->first_child + i], x.depth[i], y);
		y += HEADING_H + (x.depth[i] + 1) * FRAME_H + GRAPH_GAP;
	}
	if (!err)
		err = put_footer(&x, y);
	if (!err) {
		fputs("<script type=\"text/ecmascript\"><![CDATA[\n", out);
		fwrite(flamegraph_js, 1, flamegraph_js_len, out);
		fputs("]]></script>\n</svg>\n", out);
		err = ferror(out) ? -EIO : 0;
	}
out:
	free(x.stack);
	free(x.depth);
	render_tree__release(&x.t);
	return err;
}

static const char *const svg_extensions[] = { ".svg", NULL };

const struct renderer render_svg = {
	.name = "svg",
	.extensions = svg_extensions,
	.render = svg_render,
};
