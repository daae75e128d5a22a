/* SPDX-License-Identifier: MIT */
/* top_view.c — pyflare top's screen from a tally (top_view.h). */
#include "top/top_view.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "top/screen_text.h"
#include "lib/grow.h"
#include "render/render_tree.h"
#include "render/render_util.h"

const char *const top_key_help[] = {
	"q Ctrl-C  quit",
	"? h       this help (any key closes it)",
	"s         next sort order",
	"1 2 3 4   sort by own, total, name, file",
	"l         a row per function / per line",
	"w         last interval / whole run",
	"space     pause / resume the display",
	"r         start the whole run again",
	"/ f       filter by text (Enter, Esc)",
	"p         one process (PID) / all",
	"i         hide / show waits (wall mode)",
	NULL,
};

#define KEY_HINT "q quit  ? help  s sort  / filter  p process  l lines  w run  space pause"

/* Columns, left to right; the text ones share what the numbers leave. */
enum col { COL_OWN_PCT, COL_TOTAL_PCT, COL_OWN, COL_TOTAL, COL_FUNC, COL_WHERE, COL_PROC, NCOL };

static const struct {
	const char *title;
	int width; /* numbers: fixed; text: the least worth showing */
	int gap;   /* spaces before it */
} cols[NCOL] = {
	[COL_OWN_PCT] = { "OWN%", 5, 0 },   [COL_TOTAL_PCT] = { "TOTAL%", 6, 1 },
	[COL_OWN] = { "OWN s", 7, 1 },	    [COL_TOTAL] = { "TOTAL s", 7, 1 },
	[COL_FUNC] = { "FUNCTION", 24, 2 }, [COL_WHERE] = { "FILE:LINE", 12, 2 },
	[COL_PROC] = { "PROCESS", 12, 2 },
};

/*
 * Optional columns, the first dropped last when the width runs short: each is shown when
 * the function keeps its least width beside it.
 */
static const enum col optional[] = { COL_TOTAL_PCT, COL_OWN, COL_WHERE, COL_PROC, COL_TOTAL };

struct row {
	uint64_t self, total;
	uint64_t stamp;	   /* the last entry counted + 1: recursion counts once */
	uint32_t proc;	   /* the session process of its first entry: names its file */
	uint32_t last_pid; /* entries come by PID: a new one is one more process */
	uint32_t npids;
	char *name, *where, *who; /* as shown (escaped) */
};

struct build {
	const struct session *s;
	const struct top_tally *t;
	const struct top_status *st;
	const struct top_view_opts *o;
	struct top_screen *out;
	size_t lines_cap; /* out->lines' room */
	struct render_stacks rs;
	const struct session_process *procs;
	const struct session_thread *threads;
	const struct session_stack *stacks;
	const struct session_frame *frames;
	size_t nprocs, nthreads, nstacks, nframes;
	struct row *rows; /* per folded frame */
	uint32_t *order;  /* the folded frames with time, then those shown, sorted */
	size_t norder;
	uint64_t base, waited; /* the time shown (the shares' whole), of it waiting */
	uint32_t nthreads_seen;
	uint32_t npids;	 /* processes in the view: with one, no process column */
	int width[NCOL]; /* -1: not shown */
	bool oom;
};

/* --- lines ------------------------------------------------------------------------------------ */

/* Hands @l to the screen as its next line: its text moves there, @l is left empty. */
static void push_line(struct build *b, struct screen_line *l, enum top_line_style style)
{
	struct top_screen *sc = b->out;

	if (!l->text && !l->oom)
		l->text = calloc(1, 1);
	if (l->oom || !l->text || GROW(sc->lines, b->lines_cap, sc->n + 1, 64)) {
		b->oom = true;
		screen_line_release(l);
		return;
	}
	sc->lines[sc->n++] = (struct top_line){ l->text, l->cells, style };
	*l = (struct screen_line){ 0 };
}

/* One whole line of @text (ASCII or escaped), cut to the width. */
static void put_text_line(struct build *b, const char *text, enum screen_cut cut)
{
	struct screen_line l = { 0 };

	screen_line_put(&l, text, b->o->width ? b->o->width : -1, cut);
	push_line(b, &l, TOP_LINE_PLAIN);
}

void top_screen_release(struct top_screen *sc)
{
	for (size_t i = 0; sc && i < sc->n; i++)
		free(sc->lines[i].text);
	if (sc) {
		free(sc->lines);
		*sc = (struct top_screen){ 0 };
	}
}

/* --- figures ---------------------------------------------------------------------------------- */

static void format_seconds(char *buf, size_t len, uint64_t ns)
{
	double s = (double)ns / 1e9;

	/* at most 7 characters below 10^7 s */
	snprintf(buf, len, s < 10 ? "%.3f" : s < 100 ? "%.2f" : s < 1000 ? "%.1f" : "%.0f", s);
}

static void format_share(char *buf, size_t len, uint64_t part, uint64_t whole)
{
	snprintf(buf, len, "%.1f", whole ? 100.0 * (double)part / (double)whole : 0.0);
}

/* --- the rows --------------------------------------------------------------------------------- */

static int entry_cmp(const void *a, const void *b, void *arg)
{
	const struct build *x = arg;
	const struct top_tally_entry *ea = &x->t->entries[*(const uint32_t *)a];
	const struct top_tally_entry *eb = &x->t->entries[*(const uint32_t *)b];
	uint32_t pa = x->procs[x->threads[ea->thread].process].pid;
	uint32_t pb = x->procs[x->threads[eb->thread].process].pid;

	if (pa != pb)
		return pa < pb ? -1 : 1;
	return ea->stack < eb->stack ? -1 : ea->stack > eb->stack;
}

/* The entries the view shows (the process asked for, waits or not), in PID order. */
static int select_entries(struct build *b, uint32_t **sel, size_t *nsel)
{
	const struct top_tally *t = b->t;
	bool *seen = calloc(b->nthreads ? b->nthreads : 1, sizeof(*seen));

	*nsel = 0;
	*sel = malloc((t->n ? t->n : 1) * sizeof(**sel));
	if (!seen || !*sel) {
		free(seen);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct top_tally_entry *e = &t->entries[i];
		const struct session_process *p;
		bool wait;

		if (e->thread >= b->nthreads || !e->stack || e->stack >= b->nstacks ||
		    b->threads[e->thread].process >= b->nprocs ||
		    b->stacks[e->stack].frame >= b->nframes) {
			free(seen);
			return -EINVAL;
		}
		p = &b->procs[b->threads[e->thread].process];
		wait = b->frames[b->stacks[e->stack].frame].kind == FRAME_WAIT;
		if ((b->o->pid && p->pid != b->o->pid) || (wait && b->o->hide_waits))
			continue;
		(*sel)[(*nsel)++] = (uint32_t)i;
		b->base += e->weight_ns;
		if (wait)
			b->waited += e->weight_ns;
		if (!seen[e->thread]) {
			seen[e->thread] = true;
			b->nthreads_seen++;
		}
	}
	free(seen);
	qsort_r(*sel, *nsel, sizeof(**sel), entry_cmp, b);
	for (size_t i = 0; i < *nsel; i++) {
		const struct top_tally_entry *e = &t->entries[(*sel)[i]];
		const struct top_tally_entry *prev = i ? &t->entries[(*sel)[i - 1]] : NULL;

		if (!prev || b->procs[b->threads[e->thread].process].pid !=
				     b->procs[b->threads[prev->thread].process].pid)
			b->npids++;
	}
	return 0;
}

/* Own and total time per folded frame, and the processes it ran in. */
static int add_up(struct build *b)
{
	const struct session_stack *fn = b->rs.nodes;
	uint32_t *sel;
	size_t nsel;
	int err = select_entries(b, &sel, &nsel);

	if (err) {
		free(sel);
		return err;
	}
	for (size_t i = 0; i < nsel; i++) {
		const struct top_tally_entry *e = &b->t->entries[sel[i]];
		uint32_t proc = b->threads[e->thread].process, pid = b->procs[proc].pid;
		uint32_t fnode = b->rs.map[e->stack];

		if (fnode)
			b->rows[fn[fnode].frame].self += e->weight_ns;
		for (; fnode; fnode = fn[fnode].parent) {
			uint32_t f = fn[fnode].frame;
			struct row *r = &b->rows[f];

			if (r->stamp == i + 1)
				continue;
			if (!r->stamp) {
				b->order[b->norder++] = f;
				r->proc = proc;
				r->last_pid = pid;
				r->npids = 1;
			} else if (r->last_pid != pid) {
				r->last_pid = pid;
				r->npids++;
			}
			r->stamp = i + 1;
			r->total += e->weight_ns;
		}
	}
	free(sel);
	return 0;
}

/* The shown texts of row @f: function and file:line. Returns 0 or -ENOMEM. */
static int name_row(struct build *b, uint32_t f)
{
	const struct session_frame *fr = &b->rs.frames.frames[f];
	const struct session_process *p = &b->procs[b->rows[f].proc];
	struct row *r = &b->rows[f];
	char *where = NULL;
	int n = 0;

	r->name = screen_escape(render_frame_name(fr));
	if (fr->kind == FRAME_PYTHON)
		n = fr->line ? asprintf(&where, "%s:%u", render_short_path(p, fr->file), fr->line) :
			       asprintf(&where, "%s", render_short_path(p, fr->file));
	r->where = screen_escape(n >= 0 && where ? where : "");
	free(where);
	return n < 0 || !r->name || !r->where ? -ENOMEM : 0;
}

/* The process column of a shown row: "4242 python3", or "3 processes". */
static int name_process(struct build *b, struct row *r)
{
	const struct session_process *p = &b->procs[r->proc];
	char *comm;
	int n;

	if (r->npids > 1)
		return asprintf(&r->who, "%u processes", r->npids) < 0 ? -ENOMEM : 0;
	comm = screen_escape(p->comm);
	n = comm ? asprintf(&r->who, "%u %s", p->pid, comm) : -1;
	free(comm);
	if (n < 0) {
		r->who = NULL;
		return -ENOMEM;
	}
	return 0;
}

static bool matches(const struct row *r, const char *filter)
{
	return !filter || !*filter || strcasestr(r->name, filter) || strcasestr(r->where, filter);
}

static int desc(uint64_t a, uint64_t b)
{
	return a == b ? 0 : a > b ? -1 : 1;
}

static int row_cmp(const void *a, const void *b, void *arg)
{
	const struct build *x = arg;
	uint32_t fa = *(const uint32_t *)a, fb = *(const uint32_t *)b;
	const struct row *ra = &x->rows[fa], *rb = &x->rows[fb];
	const struct session_frame *a_f = &x->rs.frames.frames[fa], *b_f = &x->rs.frames.frames[fb];
	int c = 0;

	switch (x->o->sort) {
	case FLAT_SORT_TOTAL:
		c = desc(ra->total, rb->total);
		if (!c)
			c = desc(ra->self, rb->self);
		break;
	case FLAT_SORT_NAME:
		c = strcmp(ra->name, rb->name);
		break;
	case FLAT_SORT_FILE:
		c = strcmp(a_f->file, b_f->file);
		if (!c && a_f->line != b_f->line)
			c = a_f->line < b_f->line ? -1 : 1;
		break;
	case FLAT_SORT_SELF:
	default:
		c = desc(ra->self, rb->self);
		if (!c)
			c = desc(ra->total, rb->total);
		break;
	}
	if (!c)
		c = strcmp(ra->name, rb->name);
	if (!c)
		c = strcmp(ra->where, rb->where);
	return c ? c : fa < fb ? -1 : fa > fb;
}

/* Names the rows with time, keeps those the filter lets through, sorts them. */
static int pick_rows(struct build *b)
{
	size_t kept = 0;

	for (size_t i = 0; i < b->norder; i++) {
		uint32_t f = b->order[i];

		if (name_row(b, f))
			return -ENOMEM;
		if (matches(&b->rows[f], b->o->filter))
			b->order[kept++] = f;
	}
	b->out->rows = kept;
	b->norder = kept;
	qsort_r(b->order, b->norder, sizeof(*b->order), row_cmp, b);
	return 0;
}

/* --- the header ------------------------------------------------------------------------------- */

#define MAX_ITEMS 16

struct items {
	char *text[MAX_ITEMS];
	size_t n;
};

static void item(struct items *it, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void item(struct items *it, const char *fmt, ...)
{
	va_list ap;

	if (it->n == MAX_ITEMS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&it->text[it->n], fmt, ap) >= 0)
		it->n++;
	va_end(ap);
}

/* The drilled-into process, as its first entry names it: "process 4242 python3". */
static void process_item(struct build *b, struct items *it)
{
	const char *comm = "";
	char *shown;

	for (size_t i = 0; i < b->nprocs; i++)
		if (b->procs[i].pid == b->o->pid)
			comm = b->procs[i].comm;
	shown = screen_escape(comm);
	item(it, "process %u%s%s", b->o->pid, shown && *shown ? " " : "", shown ? shown : "");
	free(shown);
}

static void header_items(struct build *b, struct items *it)
{
	const struct top_tally *t = b->t;
	const struct top_status *st = b->st;
	double span = (double)(t->end_ns - t->begin_ns) / 1e9;
	static const char *const sorts[] = { "own", "total", "name", "file" };
	char *filter;

	/* what makes this screen what it is first: a small terminal keeps those */
	item(it, "pyflare top%s", st->paused ? "  PAUSED" : "");
	item(it, "%s %.1f s", st->whole_run ? "whole run" : "last", span);
	if (b->o->pid)
		process_item(b, it);
	if (b->o->filter && *b->o->filter && (filter = screen_escape(b->o->filter))) {
		item(it, "filter \"%s\"", filter);
		free(filter);
	}
	item(it, "sort %s", sorts[b->o->sort <= FLAT_SORT_FILE ? b->o->sort : 0]);
	if (b->o->granularity == GRANULARITY_LINE)
		item(it, "per line");
	if (b->o->hide_waits && st->wall)
		item(it, "waits hidden");
	if (st->wall && !b->o->hide_waits)
		item(it, "on CPU %.0f%%, waiting %.0f%%",
		     b->base ? 100.0 * (double)(b->base - b->waited) / (double)b->base : 0.0,
		     b->base ? 100.0 * (double)b->waited / (double)b->base : 0.0);
	else
		item(it, "on CPU %.2f of %u CPU%s", span > 0 ? (double)b->base / 1e9 / span : 0.0,
		     st->ncpus, st->ncpus == 1 ? "" : "s");
	item(it, "%u process%s", st->processes, st->processes == 1 ? "" : "es");
	item(it, "%u thread%s", b->nthreads_seen, b->nthreads_seen == 1 ? "" : "s");
	item(it, "%.0f samples/s", span > 0 ? (double)t->received / span : 0.0);
	if (st->sample_clock)
		item(it, "%u Hz %s", st->rate_hz, st->sample_clock);
	item(it, "%llu lost", (unsigned long long)t->lost);
	item(it, "pyflare %.1f%% CPU",
	     span > 0 ? 100.0 * (double)t->self_cpu_ns / 1e9 / span : 0.0);
	if (st->clock)
		item(it, "%s", st->clock);
}

/* The items on at most @max_lines lines of the width, two spaces apart: the rest is left out. */
static size_t put_header(struct build *b, int max_lines)
{
	struct items it = { 0 };
	struct screen_line l = { 0 };
	int width = b->o->width, lines = 0;

	header_items(b, &it);
	for (size_t i = 0; i < it.n; i++) {
		int cells = screen_cells(it.text[i]);

		if (lines && (!width || l.cells + 2 + cells <= width)) {
			screen_line_spaces(&l, 2);
			screen_line_put(&l, it.text[i], -1, SCREEN_CUT_END);
			continue;
		}
		if (lines == max_lines)
			continue; /* a shorter one further on may still fit */
		if (lines)
			push_line(b, &l, TOP_LINE_PLAIN);
		lines++;
		screen_line_put(&l, it.text[i], width ? width : -1, SCREEN_CUT_END);
	}
	if (lines && l.text)
		push_line(b, &l, TOP_LINE_PLAIN);
	screen_line_release(&l);
	for (size_t i = 0; i < it.n; i++)
		free(it.text[i]);
	return (size_t)lines;
}

/* --- the table -------------------------------------------------------------------------------- */

static int min_int(int a, int b)
{
	return a < b ? a : b;
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

/* Which columns fit, and how wide each is, for the @nrows rows shown. */
static void lay_out(struct build *b, size_t nrows)
{
	int need[NCOL], width = b->o->width, used, flex;

	for (int c = 0; c < NCOL; c++)
		need[c] = c < COL_FUNC ? cols[c].width : screen_cells(cols[c].title);
	for (size_t i = 0; i < nrows; i++) {
		const struct row *r = &b->rows[b->order[i]];

		need[COL_FUNC] = max_int(need[COL_FUNC], screen_cells(r->name));
		need[COL_WHERE] = max_int(need[COL_WHERE], screen_cells(r->where));
		need[COL_PROC] = max_int(need[COL_PROC], screen_cells(r->who));
	}
	if (!width) {
		memcpy(b->width, need, sizeof(need));
		if (b->npids <= 1)
			b->width[COL_PROC] = -1;
		return;
	}
	for (int c = 0; c < NCOL; c++)
		b->width[c] = -1;
	b->width[COL_OWN_PCT] = cols[COL_OWN_PCT].width;
	used = cols[COL_OWN_PCT].width + cols[COL_FUNC].gap + cols[COL_FUNC].width;
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
		enum col c = optional[i];
		int cost = cols[c].gap + cols[c].width;

		if (c == COL_PROC && b->npids <= 1)
			continue; /* the header names the one process */
		if (used + cost > width)
			break;
		used += cost;
		b->width[c] = cols[c].width;
	}
	/* the text columns share the rest: each what it needs if it can, else a fair part */
	b->width[COL_FUNC] = 0;
	flex = width;
	for (int c = 0; c < NCOL; c++)
		if (b->width[c] >= 0 && c != COL_OWN_PCT)
			flex -= cols[c].gap;
	for (int c = 0; c < COL_FUNC; c++)
		if (b->width[c] >= 0)
			flex -= b->width[c];
	if (b->width[COL_PROC] >= 0)
		b->width[COL_PROC] =
			min_int(need[COL_PROC], max_int(cols[COL_PROC].width, flex / 5));
	flex -= max_int(b->width[COL_PROC], 0);
	if (b->width[COL_WHERE] >= 0)
		b->width[COL_WHERE] =
			min_int(need[COL_WHERE], max_int(cols[COL_WHERE].width, flex * 2 / 5));
	b->width[COL_FUNC] = flex - max_int(b->width[COL_WHERE], 0);
	if (b->width[COL_FUNC] > need[COL_FUNC]) {
		int spare = b->width[COL_FUNC] - need[COL_FUNC];

		b->width[COL_FUNC] = need[COL_FUNC];
		for (int c = COL_WHERE; c <= COL_PROC && spare > 0; c++) {
			int more;

			if (b->width[c] < 0)
				continue;
			more = min_int(spare, need[c] - b->width[c]);
			b->width[c] += more;
			spare -= more;
		}
	}
	b->width[COL_FUNC] = max_int(b->width[COL_FUNC], 1);
}

static int last_column(const struct build *b)
{
	int last = COL_OWN_PCT;

	for (int c = 0; c < NCOL; c++)
		if (b->width[c] >= 0)
			last = c;
	return last;
}

/* One line of cells: the column titles, or row @r's figures. */
static void put_table_line(struct build *b, const struct row *r)
{
	struct screen_line line = { 0 }, *l = &line;
	int last = last_column(b), width = b->o->width;
	char num[NCOL][32];
	const char *cell[NCOL];

	if (r) {
		format_share(num[COL_OWN_PCT], sizeof(num[0]), r->self, b->base);
		format_share(num[COL_TOTAL_PCT], sizeof(num[0]), r->total, b->base);
		format_seconds(num[COL_OWN], sizeof(num[0]), r->self);
		format_seconds(num[COL_TOTAL], sizeof(num[0]), r->total);
		for (int c = 0; c < COL_FUNC; c++)
			cell[c] = num[c];
		cell[COL_FUNC] = r->name;
		cell[COL_WHERE] = r->where;
		cell[COL_PROC] = r->who;
	} else {
		for (int c = 0; c < NCOL; c++)
			cell[c] = cols[c].title;
	}
	for (int c = 0; c < NCOL; c++) {
		if (b->width[c] < 0)
			continue;
		if (c != COL_OWN_PCT)
			screen_line_spaces(l, cols[c].gap);
		if (c == last && c >= COL_FUNC)
			screen_line_put(l, cell[c], width ? b->width[c] : -1,
					c == COL_WHERE ? SCREEN_CUT_START : SCREEN_CUT_END);
		else
			screen_line_put_padded(l, cell[c], b->width[c], c < COL_FUNC,
					       c == COL_WHERE ? SCREEN_CUT_START : SCREEN_CUT_END);
	}
	/* a safety net: at a width too small for even the first columns */
	if (width && l->cells > width) {
		struct screen_line cut = { 0 };

		screen_line_put(&cut, l->text, width, SCREEN_CUT_END);
		screen_line_release(l);
		*l = cut;
	}
	if (r)
		screen_line_trim(l); /* an empty last cell: a wait has no file */
	push_line(b, l, r ? TOP_LINE_PLAIN : TOP_LINE_TITLES);
}

/* Why there is no row to show. */
static const char *no_rows(const struct build *b)
{
	if (!b->t->n)
		return b->st->whole_run || b->t->end_ns == b->t->begin_ns ?
			       "(no samples yet)" :
			       "(no samples in this interval)";
	if (!b->base)
		return b->o->pid ? "(no samples from this process here: p and Enter shows all)" :
				   "(no samples on CPU here)";
	return "(no function matches the filter: / and Enter clears it)";
}

static void put_help(struct build *b, int lines)
{
	for (int i = 0; top_key_help[i] && i < lines; i++)
		put_text_line(b, top_key_help[i], SCREEN_CUT_END);
}

/* The last line: the prompt being typed, a message, or what the keys do. */
static void put_status(struct build *b)
{
	const struct top_view_opts *o = b->o;
	char *shown;

	if (o->prompt) {
		shown = screen_escape(o->prompt);
		if (shown)
			put_text_line(b, shown, SCREEN_CUT_START);
		free(shown);
		b->oom |= !shown;
	} else if (o->message) {
		shown = screen_escape(o->message);
		if (shown)
			put_text_line(b, shown, SCREEN_CUT_END);
		free(shown);
		b->oom |= !shown;
	} else {
		put_text_line(b, KEY_HINT, SCREEN_CUT_END);
	}
}

static void draw(struct build *b)
{
	const struct top_view_opts *o = b->o;
	int height = o->height, header_max, body;
	size_t nrows, header;

	/* a small terminal keeps its lines for the rows: header 1 to 3 lines */
	header_max = !height ? 1 : height >= 14 ? 3 : height >= 8 ? 2 : 1;
	header = put_header(b, header_max);
	if (height && (int)header >= height)
		return;
	body = height ? height - (int)header - 1 - 1 : -1; /* titles, status line */
	if (height && body < 0) {
		put_status(b);
		return;
	}
	if (o->help) {
		put_text_line(b, "keys:", SCREEN_CUT_END);
		put_help(b, height ? body : 1 << 20);
	} else {
		nrows = b->norder;
		if (height && nrows > (size_t)body)
			nrows = (size_t)body;
		if (!height && o->max_rows >= 0 && nrows > (size_t)o->max_rows)
			nrows = (size_t)o->max_rows;
		for (size_t i = 0; i < nrows && !b->oom; i++)
			b->oom = name_process(b, &b->rows[b->order[i]]) != 0;
		if (b->oom)
			return;
		lay_out(b, nrows);
		put_table_line(b, NULL);
		if (!b->norder && body)
			put_text_line(b, no_rows(b), SCREEN_CUT_END);
		for (size_t i = 0; i < nrows; i++)
			put_table_line(b, &b->rows[b->order[i]]);
		if (!height && nrows < b->norder) {
			char more[64];

			snprintf(more, sizeof(more), "(%zu more function%s)", b->norder - nrows,
				 b->norder - nrows == 1 ? "" : "s");
			put_text_line(b, more, SCREEN_CUT_END);
		}
	}
	if (height) {
		/* the status line stays at the bottom */
		while ((int)b->out->n < height - 1 && !b->oom)
			put_text_line(b, "", SCREEN_CUT_END);
		put_status(b);
	}
}

int top_view_build(const struct session *s, const struct top_tally *t, const struct top_status *st,
		   const struct top_view_opts *o, struct top_screen *out)
{
	struct build b = { .s = s, .t = t, .st = st, .o = o, .out = out };
	int err;

	*out = (struct top_screen){ 0 };
	if (!s || !t || !st || !o || o->width < 0 || o->height < 0)
		return -EINVAL;
	b.procs = session__processes(s, &b.nprocs);
	b.threads = session__threads(s, &b.nthreads);
	b.stacks = session__stacks(s, &b.nstacks);
	b.frames = session__frames(s, &b.nframes);
	err = render_stacks__build(&b.rs, s, o->granularity);
	if (err)
		return err;
	err = -ENOMEM;
	b.rows = calloc(b.rs.frames.n ? b.rs.frames.n : 1, sizeof(*b.rows));
	b.order = malloc((b.rs.frames.n ? b.rs.frames.n : 1) * sizeof(*b.order));
	if (!b.rows || !b.order)
		goto out;
	err = add_up(&b);
	if (!err)
		err = pick_rows(&b);
	if (!err) {
		draw(&b);
		err = b.oom ? -ENOMEM : 0;
	}
out:
	for (size_t i = 0; b.rows && i < b.rs.frames.n; i++) {
		free(b.rows[i].name);
		free(b.rows[i].where);
		free(b.rows[i].who);
	}
	free(b.rows);
	free(b.order);
	render_stacks__release(&b.rs);
	return err;
}
