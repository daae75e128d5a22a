/* SPDX-License-Identifier: MIT */
/* test_render_formats.c — json, pstats and pprof on fixed sessions, decoded and checked. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <zlib.h>

#include "fixture.h"
#include "render/render.h"
#include "session/session_group.h"
#include "test.h"

enum { F_MOD, F_MAIN25, F_MAIN27, F_WORK, F_REC, F_LIB, F_TRUNC, F_BAD1, F_BAD2, F_EVIL, NF };

static const struct session_frame fixture_frames[NF] = {
	[F_MOD] = FX_MOD,
	[F_MAIN25] = FX_MAIN25,
	[F_MAIN27] = FX_MAIN27,
	[F_WORK] = FX_WORK,
	[F_REC] = { "rec", "app.py", 50, 51, FRAME_PYTHON },
	[F_LIB] = { "JSONDecoder.decode", "/usr/lib/python3.12/json/decoder.py", 332, 337,
		    FRAME_PYTHON },
	[F_TRUNC] = FX_TRUNC,
	/* Two names that differ only in ill-formed bytes: both become "caf\ufffd\ufffd". */
	[F_BAD1] = FX_BAD,
	[F_BAD2] = { "caf\xe9\xfe", "/tmp/\xc3\x28.py", 7, 9, FRAME_PYTHON },
	[F_EVIL] = { "q\"b\\s\n\x01\xe2\x80\xa8", "<img src=x>", 1, 2, FRAME_PYTHON },
};

/*
 * Process 4242 python3, MainThread: 300 <module>;main:25;work, 100 <module>;main:27,
 * 50 <module>;main:25;rec;rec;rec (recursion), 20 <module>;main:25;JSONDecoder.decode
 * (library code); worker: 30 <truncated>;work. Process 5000 with a hostile comm: 10 and 5
 * samples in two frames whose names differ only in ill-formed bytes, 7 in a hostile name.
 * Process 6000 has no samples. 522 samples in all.
 */
static const struct fixture_spec fixture_spec = {
	.target = "python3 app.py",
	.health = { 522, 3, 30, 1, 4, 9, 2, 3, 1 },
	.refused_comm = "python3.15",
	.refused_reason = "unsupported Python 3.15",
	.lib_dirs = "/usr/lib/python3.12:/usr/lib/extra",
	.evil_comm = "\x1b[31mev\xffil",
	.evil_cmdline = "<img src=x onerror=alert(1)>",
	.evil_thread = "\xff\xfe",
	.frames = fixture_frames,
	.nframes = NF,
};

static struct session *fixture(void)
{
	static const int sa[] = { F_MOD, F_MAIN25, F_WORK }, sb[] = { F_MOD, F_MAIN27 };
	static const int sr[] = { F_MOD, F_MAIN25, F_REC, F_REC, F_REC };
	static const int sl[] = { F_MOD, F_MAIN25, F_LIB }, st[] = { F_TRUNC, F_WORK };
	static const int s1[] = { F_BAD1 }, s2[] = { F_BAD2 }, se[] = { F_EVIL };
	struct fixture_threads th;
	struct session *s = fixture_session(&fixture_spec, &th);
	uint64_t t = 1000;

	add_n(s, th.mainth, stack_of(s, sa, 3), 300, W, &t);
	add_n(s, th.mainth, stack_of(s, sb, 2), 100, W, &t);
	add_n(s, th.mainth, stack_of(s, sr, 5), 50, W, &t);
	add_n(s, th.mainth, stack_of(s, sl, 3), 20, W, &t);
	add_n(s, th.worker, stack_of(s, st, 2), 30, W, &t);
	add_n(s, th.hostile, stack_of(s, s1, 1), 10, W, &t);
	add_n(s, th.hostile, stack_of(s, s2, 1), 5, W, &t);
	add_n(s, th.hostile, stack_of(s, se, 1), 7, W, &t);
	return s;
}

static bool near(double got, double want)
{
	return fabs(got - want) < 1e-9;
}

static void test_registry(void)
{
	CHECK(renderer_by_name("json") == &render_json);
	CHECK(renderer_by_name("pstats") == &render_pstats);
	CHECK(renderer_by_name("pprof") == &render_pprof);
	CHECK(renderer_by_path("x.json") == &render_json);
	CHECK(renderer_by_path("X.JSON") == &render_json);
	CHECK(renderer_by_path("x.speedscope.json") == &render_speedscope);
	CHECK(renderer_by_path("x.pstats") == &render_pstats);
	CHECK(renderer_by_path("x.prof") == &render_pstats);
	CHECK(renderer_by_path("dir/x.pb.gz") == &render_pprof);
	CHECK(renderer_by_path("x.gz") == NULL);
}

/* --- json ------------------------------------------------------------------------------ */

/* "name@line" of the frame a node refers to. */
static const char *node_frame(const cJSON *frames, const cJSON *node, char *buf, size_t len)
{
	const cJSON *f = cJSON_GetArrayItem(frames, (int)num(node, "frame"));

	snprintf(buf, len, "%s@%d", f ? str(f, "name") : "?", f ? (int)num(f, "line") : -2);
	return buf;
}

/*
 * Checks a thread's node list: parents come first, a node's total is its self plus its
 * children's totals, samples likewise. Returns the list as "parent:name@line" items.
 */
static char *check_nodes(const cJSON *frames, const cJSON *nodes)
{
	static char out[4096];
	int n = cJSON_GetArraySize(nodes), i;
	double *child_total = calloc(n, sizeof(double));
	char name[256];

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		const cJSON *node = cJSON_GetArrayItem(nodes, i);
		int parent = (int)num(node, "parent");
		size_t used = strlen(out);

		CHECK(parent >= -1 && parent < i);
		if (parent >= 0)
			child_total[parent] += num(node, "total");
		snprintf(out + used, sizeof(out) - used, "%s%d:%s", i ? " " : "", parent,
			 node_frame(frames, node, name, sizeof(name)));
	}
	for (i = 0; i < n; i++) {
		const cJSON *node = cJSON_GetArrayItem(nodes, i);

		CHECK(near(num(node, "total"), num(node, "self") + child_total[i]));
	}
	free(child_total);
	return out;
}

static void test_json(void)
{
	struct session *s = fixture();
	struct render_opts o = render_opts_default;
	const cJSON *procs, *p, *threads, *th, *frames, *f, *nodes, *n;
	cJSON *doc;
	char *out;
	size_t len;
	int err;

	out = render_n(&render_json, s, &o, &err, &len);
	CHECK_INT(err, 0);
	CHECK(valid_utf8_n(out, len));
	doc = cJSON_Parse(out);
	CHECK(doc != NULL);
	if (!doc) {
		free(out);
		session__free(s);
		return;
	}
	CHECK_STR(str(doc, "format"), "pyflare-tree");
	CHECK(num(doc, "version") == 1);
	CHECK_STR(str(doc, "exporter"), "pyflare " PYFLARE_VERSION);
	CHECK(near(num(doc, "total"), 522 * W / 1e9));
	CHECK(num(doc, "samples") == 522);
	CHECK_STR(str(item(doc, "meta"), "recorded_at"), "2023-11-14T22:13:20.123456789Z");
	CHECK(num(item(doc, "meta"), "duration") == 2);
	CHECK_STR(str(item(doc, "meta"), "granularity"), "function");
	CHECK_STR(str(item(doc, "meta"), "group_by"), "process");
	CHECK(num(item(doc, "health"), "truncated") == 30);
	CHECK_STR(str(cJSON_GetArrayItem(item(doc, "refusals"), 0), "reason"),
		  "unsupported Python 3.15");

	frames = item(doc, "frames");
	/* Function granularity: main:25 and main:27 are one frame; the two bad names stay two. */
	CHECK_INT(cJSON_GetArraySize(frames), NF - 1);
	f = cJSON_GetArrayItem(frames, 1);
	CHECK_STR(str(f, "name"), "main");
	CHECK_STR(str(f, "kind"), "python");
	CHECK_STR(str(f, "file"), "app.py");
	CHECK(num(f, "line") == 20 && num(f, "first_line") == 20);
	f = cJSON_GetArrayItem(frames, 5);
	CHECK_STR(str(f, "name"), "<truncated>");
	CHECK_STR(str(f, "kind"), "truncated");
	CHECK(item(f, "file") == NULL && item(f, "line") == NULL);
	CHECK_STR(str(cJSON_GetArrayItem(frames, 6), "name"), "caf\xef\xbf\xbd\xef\xbf\xbd");
	CHECK_STR(str(cJSON_GetArrayItem(frames, 6), "file"), "/tmp/\xef\xbf\xbd(.py");
	CHECK_STR(str(cJSON_GetArrayItem(frames, 8), "name"), "q\"b\\s\n\x01\xe2\x80\xa8");

	procs = item(doc, "processes");
	CHECK_INT(cJSON_GetArraySize(procs), 3);
	p = cJSON_GetArrayItem(procs, 0);
	CHECK(num(p, "pid") == 4242);
	/* one process stands for itself */
	CHECK_INT(cJSON_GetArraySize(item(p, "members")), 1);
	CHECK(cJSON_GetArrayItem(item(p, "members"), 0)->valueint == 4242);
	CHECK_STR(str(p, "python_version"), "3.12.1");
	/* not in a namespace or container of its own: 0 and "" */
	CHECK(num(p, "ns_pid") == 0);
	CHECK_STR(str(p, "cgroup"), "");
	CHECK_STR(str(p, "container"), "");
	CHECK_INT(cJSON_GetArraySize(item(p, "lib_dirs")), 2);
	CHECK_STR(cJSON_GetArrayItem(item(p, "lib_dirs"), 1)->valuestring, "/usr/lib/extra");
	CHECK(near(num(p, "total"), 500 * W / 1e9));
	CHECK(num(p, "samples") == 500);
	threads = item(p, "threads");
	CHECK_INT(cJSON_GetArraySize(threads), 2);
	th = cJSON_GetArrayItem(threads, 0);
	CHECK(num(th, "tid") == 4242);
	CHECK_STR(str(th, "name"), "MainThread");
	CHECK(num(th, "merged") == 1);
	CHECK(near(num(th, "total"), 470 * W / 1e9));
	nodes = item(th, "nodes");
	CHECK_STR(check_nodes(frames, nodes),
		  "-1:<module>@1 0:main@20 1:work@40 1:rec@50 3:rec@50 4:rec@50 "
		  "1:JSONDecoder.decode@332");
	n = cJSON_GetArrayItem(nodes, 1);
	CHECK(near(num(n, "total"), 470 * W / 1e9));
	CHECK(near(num(n, "self"), 100 * W / 1e9));
	CHECK(num(n, "samples") == 470);
	CHECK(cJSON_IsFalse(item(n, "library")));
	CHECK(cJSON_IsTrue(item(cJSON_GetArrayItem(nodes, 6), "library")));
	CHECK(near(num(cJSON_GetArrayItem(nodes, 5), "self"), 50 * W / 1e9));
	th = cJSON_GetArrayItem(threads, 1);
	CHECK_STR(check_nodes(frames, item(th, "nodes")), "-1:<truncated>@-1 0:work@40");

	p = cJSON_GetArrayItem(procs, 1);
	CHECK_STR(str(p, "comm"), "\x1b[31mev\xef\xbf\xbdil");
	CHECK_STR(str(cJSON_GetArrayItem(item(p, "threads"), 0), "name"),
		  "\xef\xbf\xbd\xef\xbf\xbd");
	CHECK(num(p, "samples") == 22);
	p = cJSON_GetArrayItem(procs, 2);
	CHECK(num(p, "total") == 0 && num(p, "samples") == 0);
	CHECK_INT(cJSON_GetArraySize(item(p, "lib_dirs")), 0);
	th = cJSON_GetArrayItem(item(p, "threads"), 0);
	CHECK(cJSON_IsArray(item(th, "nodes")) && cJSON_GetArraySize(item(th, "nodes")) == 0);
	cJSON_Delete(doc);
	free(out);

	/* Line granularity: main's two lines are two frames and two nodes. */
	o.granularity = GRANULARITY_LINE;
	out = render_n(&render_json, s, &o, &err, &len);
	CHECK_INT(err, 0);
	doc = cJSON_Parse(out);
	CHECK(doc != NULL);
	CHECK_STR(str(item(doc, "meta"), "granularity"), "line");
	frames = item(doc, "frames");
	CHECK_INT(cJSON_GetArraySize(frames), NF);
	th = cJSON_GetArrayItem(item(cJSON_GetArrayItem(item(doc, "processes"), 0), "threads"), 0);
	CHECK_STR(check_nodes(frames, item(th, "nodes")),
		  "-1:<module>@10 0:main@25 1:work@42 1:rec@51 3:rec@51 4:rec@51 "
		  "1:JSONDecoder.decode@337 0:main@27");
	CHECK(num(cJSON_GetArrayItem(frames, 1), "first_line") == 20);
	cJSON_Delete(doc);
	free(out);
	session__free(s);
}

/* --group-by none: one group of the three processes, MainThreads merged, totals kept. */
static void test_json_groups(void)
{
	struct session *s = fixture(), *g = session_group(s, GROUP_BY_NONE);
	struct render_opts o = render_opts_default;
	const cJSON *procs, *p, *threads, *th, *frames, *nodes;
	cJSON *doc = NULL;
	char *out;
	size_t len;
	int err;

	o.group_by = GROUP_BY_NONE;
	out = g ? render_n(&render_json, g, &o, &err, &len) : NULL;
	CHECK(out != NULL);
	doc = out ? cJSON_Parse(out) : NULL;
	CHECK(doc != NULL);
	if (!doc)
		goto out;
	CHECK(valid_utf8_n(out, len));
	CHECK_STR(str(item(doc, "meta"), "group_by"), "none");
	CHECK(num(doc, "samples") == 522);
	CHECK(num(item(doc, "health"), "attached") == 3);
	procs = item(doc, "processes");
	CHECK_INT(cJSON_GetArraySize(procs), 1);
	p = cJSON_GetArrayItem(procs, 0);
	CHECK(num(p, "pid") == 4242);
	CHECK_INT(cJSON_GetArraySize(item(p, "members")), 3);
	CHECK(cJSON_GetArrayItem(item(p, "members"), 1)->valueint == 5000);
	CHECK(cJSON_GetArrayItem(item(p, "members"), 2)->valueint == 6000);
	CHECK_STR(str(p, "comm"), "python3 + \x1b[31mev\xef\xbf\xbdil + idle");
	CHECK_STR(str(p, "python_version"), "3.12.1 + 3.11.4");
	CHECK_INT(cJSON_GetArraySize(item(p, "lib_dirs")), 3);
	CHECK_STR(cJSON_GetArrayItem(item(p, "lib_dirs"), 2)->valuestring, "/usr/lib/python3.11");
	CHECK(near(num(p, "total"), 522 * W / 1e9));
	CHECK(num(p, "samples") == 522);
	threads = item(p, "threads");
	CHECK_INT(cJSON_GetArraySize(threads), 3);
	th = cJSON_GetArrayItem(threads, 0);
	CHECK_STR(str(th, "name"), "MainThread");
	CHECK(num(th, "merged") == 2 && num(th, "samples") == 470);
	th = cJSON_GetArrayItem(threads, 1);
	CHECK(num(th, "tid") == 4243 && num(th, "merged") == 1 && num(th, "samples") == 30);
	CHECK(num(cJSON_GetArrayItem(threads, 2), "samples") == 22);
	/* the same tree, library code still library code */
	frames = item(doc, "frames");
	nodes = item(cJSON_GetArrayItem(threads, 0), "nodes");
	CHECK_STR(check_nodes(frames, nodes),
		  "-1:<module>@1 0:main@20 1:work@40 1:rec@50 3:rec@50 4:rec@50 "
		  "1:JSONDecoder.decode@332");
	CHECK(cJSON_IsTrue(item(cJSON_GetArrayItem(nodes, 6), "library")));
out:
	cJSON_Delete(doc);
	free(out);
	session__free(g);
	session__free(s);
}

/* A stack far deeper than any parser's nesting limit stays flat. */
static void test_json_deep(void)
{
	struct session *s = session__new();
	uint32_t node = 0;
	cJSON *doc;
	char *out;
	int err, i, f;

	session__add_process(
		s, &(struct session_process){ 1, 1, "p", "", "", "", "", 0, "", "", 0, NULL });
	session__add_thread(s, 0, 1, "");
	f = session__intern_frame(s, &(struct session_frame){ "r", "r.py", 1, 2, FRAME_PYTHON });
	for (i = 0; i < 3000; i++)
		node = session__intern_stack(s, node, f);
	session__add_sample(s, &(struct session_sample){ 0, 5, 0, node });
	out = render_n(&render_json, s, NULL, &err, NULL);
	CHECK_INT(err, 0);
	doc = cJSON_Parse(out);
	CHECK(doc != NULL);
	if (doc) {
		const cJSON *nodes = item(
			cJSON_GetArrayItem(
				item(cJSON_GetArrayItem(item(doc, "processes"), 0), "threads"), 0),
			"nodes");

		CHECK_INT(cJSON_GetArraySize(nodes), 3000);
		CHECK(num(cJSON_GetArrayItem(nodes, 2999), "parent") == 2998);
		CHECK(num(cJSON_GetArrayItem(nodes, 2999), "self") == 5e-9);
	}
	cJSON_Delete(doc);
	free(out);
	session__free(s);
}

static void test_json_empty(void)
{
	struct session *s = session__new();
	cJSON *doc;
	char *out;
	int err;

	out = render_n(&render_json, s, NULL, &err, NULL);
	CHECK_INT(err, 0);
	doc = cJSON_Parse(out);
	CHECK(doc != NULL);
	CHECK(num(doc, "total") == 0);
	CHECK_INT(cJSON_GetArraySize(item(doc, "frames")), 0);
	CHECK_INT(cJSON_GetArraySize(item(doc, "processes")), 0);
	CHECK_STR(str(item(doc, "meta"), "recorded_at"), "");
	cJSON_Delete(doc);
	free(out);
	session__free(s);
}

/* --- pstats: a small marshal reader ------------------------------------------------------ */

struct mval {
	char type; /* 'd' dict, 't' tuple, 's' str, 'i' int, 'f' float */
	int64_t i;
	double f;
	char *s;
	size_t n;	    /* tuple items, or dict pairs */
	struct mval *items; /* a dict's are key, value, key, value, ... */
};

struct mreader {
	const unsigned char *p, *end;
	bool bad;
};

static uint32_t m_u32(struct mreader *r)
{
	uint32_t v;

	if (r->end - r->p < 4) {
		r->bad = true;
		return 0;
	}
	v = r->p[0] | r->p[1] << 8 | r->p[2] << 16 | (uint32_t)r->p[3] << 24;
	r->p += 4;
	return v;
}

static void m_free(struct mval *v)
{
	size_t i, n = v->type == 'd' ? v->n * 2 : v->n;

	for (i = 0; v->items && i < n; i++)
		m_free(&v->items[i]);
	free(v->items);
	free(v->s);
}

/* Reads one object; only the type codes render_pstats may write are accepted. */
static void m_read(struct mreader *r, struct mval *v)
{
	uint32_t n, i;
	int type;

	memset(v, 0, sizeof(*v));
	if (r->bad || r->p >= r->end) {
		r->bad = true;
		return;
	}
	type = *r->p++;
	switch (type) {
	case '{': {
		size_t cap = 0;

		v->type = 'd';
		while (!r->bad && r->p < r->end && *r->p != '0') {
			if (v->n == cap) {
				cap = cap ? cap * 2 : 8;
				v->items = realloc(v->items, cap * 2 * sizeof(*v->items));
			}
			m_read(r, &v->items[2 * v->n]);
			m_read(r, &v->items[2 * v->n + 1]);
			v->n++;
		}
		if (r->p >= r->end)
			r->bad = true;
		else
			r->p++;
		return;
	}
	case ')':
	case '(':
		v->type = 't';
		if (type == ')') {
			n = r->p < r->end ? *r->p++ : 0;
		} else {
			n = m_u32(r);
			/* The small form is the one to use below 256. */
			if (n < 256)
				r->bad = true;
		}
		v->n = n;
		v->items = calloc(n ? n : 1, sizeof(*v->items));
		for (i = 0; i < n && !r->bad; i++)
			m_read(r, &v->items[i]);
		return;
	case 'u':
		v->type = 's';
		n = m_u32(r);
		if (r->bad || (size_t)(r->end - r->p) < n) {
			r->bad = true;
			return;
		}
		v->s = strndup((const char *)r->p, n);
		if (!valid_utf8_n(v->s, n) || strlen(v->s) != n)
			r->bad = true;
		r->p += n;
		return;
	case 'i':
		v->type = 'i';
		v->i = (int32_t)m_u32(r);
		return;
	case 'l': {
		int32_t nd = (int32_t)m_u32(r);
		uint64_t mag = 0;
		int k;

		v->type = 'i';
		for (k = 0; k < abs(nd) && !r->bad; k++) {
			if (r->end - r->p < 2) {
				r->bad = true;
				return;
			}
			mag |= (uint64_t)(r->p[0] | r->p[1] << 8) << (15 * k);
			r->p += 2;
		}
		v->i = nd < 0 ? -(int64_t)mag : (int64_t)mag;
		return;
	}
	case 'g': {
		uint64_t bits = 0;
		int k;

		v->type = 'f';
		if (r->end - r->p < 8) {
			r->bad = true;
			return;
		}
		for (k = 0; k < 8; k++)
			bits |= (uint64_t)r->p[k] << (8 * k);
		memcpy(&v->f, &bits, sizeof(bits));
		r->p += 8;
		return;
	}
	default:
		r->bad = true;
	}
}

/* The value of the key (file, line, name) in dict @d, or NULL. */
static const struct mval *m_get(const struct mval *d, const char *file, int64_t line,
				const char *name)
{
	size_t i;

	for (i = 0; d && d->type == 'd' && i < d->n; i++) {
		const struct mval *k = &d->items[2 * i];

		if (k->type == 't' && k->n == 3 && k->items[0].type == 's' &&
		    k->items[1].type == 'i' && k->items[2].type == 's' &&
		    !strcmp(k->items[0].s, file) && k->items[1].i == line &&
		    !strcmp(k->items[2].s, name))
			return &d->items[2 * i + 1];
	}
	return NULL;
}

/* "n n tt ct" of a stats tuple, times in samples of W; "" when it is not one. */
static const char *figures(const struct mval *v)
{
	static char buf[128];

	buf[0] = '\0';
	if (!v || v->type != 't' || v->n < 4 || v->items[0].type != 'i' ||
	    v->items[1].type != 'i' || v->items[2].type != 'f' || v->items[3].type != 'f')
		return buf;
	snprintf(buf, sizeof(buf), "%lld %lld %.6g %.6g", (long long)v->items[0].i,
		 (long long)v->items[1].i, v->items[2].f * 1e9 / W, v->items[3].f * 1e9 / W);
	return buf;
}

static const struct mval *callers(const struct mval *v)
{
	return v && v->type == 't' && v->n == 5 && v->items[4].type == 'd' ? &v->items[4] : NULL;
}

/* A C0 or C1 control, or a line separator, a terminal would act on. */
static bool has_control(const char *str)
{
	const unsigned char *u = (const unsigned char *)str;

	for (; *u; u++)
		if (*u < 0x20 || *u == 0x7f || (u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f) ||
		    (u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9)))
			return true;
	return false;
}

/* Any string inside @v (a marshalled value) with a control. */
static bool has_control_str(const struct mval *v)
{
	size_t n = v->type == 'd' ? 2 * v->n : v->type == 't' ? v->n : 0;

	if (v->type == 's' && has_control(v->s))
		return true;
	for (size_t i = 0; i < n; i++)
		if (has_control_str(&v->items[i]))
			return true;
	return false;
}

static bool m_parse(const char *buf, size_t len, struct mval *v)
{
	const unsigned char *p = (const unsigned char *)buf;
	struct mreader r = { .p = p, .end = p + len };

	m_read(&r, v);
	return !r.bad && r.p == r.end && v->type == 'd';
}

static void test_pstats(void)
{
	struct session *s = fixture();
	struct render_opts o = render_opts_default;
	const struct mval *v;
	struct mval d;
	double tt = 0;
	size_t len, i;
	char *out;
	int err;

	out = render_n(&render_pstats, s, &o, &err, &len);
	CHECK_INT(err, 0);
	CHECK(m_parse(out, len, &d));
	/* <module> main work rec decode <truncated> caf?? q"b... (the bad names merged) */
	CHECK_INT(d.n, 8);
	v = m_get(&d, "app.py", 1, "<module>");
	CHECK_STR(figures(v), "470 470 0 470");
	CHECK_INT(callers(v) ? callers(v)->n : 99, 0);
	v = m_get(&d, "app.py", 20, "main");
	CHECK_STR(figures(v), "470 470 100 470");
	CHECK_INT(callers(v) ? callers(v)->n : 99, 1);
	CHECK_STR(figures(m_get(callers(v), "app.py", 1, "<module>")), "470 470 100 470");
	v = m_get(&d, "app.py", 40, "work");
	CHECK_STR(figures(v), "330 330 330 330");
	CHECK_INT(callers(v) ? callers(v)->n : 99, 2);
	CHECK_STR(figures(m_get(callers(v), "app.py", 20, "main")), "300 300 300 300");
	CHECK_STR(figures(m_get(callers(v), "~", 0, "<truncated>")), "30 30 30 30");
	/* Recursion: counted once per sample, and rec is its own caller. */
	v = m_get(&d, "app.py", 50, "rec");
	CHECK_STR(figures(v), "50 50 50 50");
	CHECK_INT(callers(v) ? callers(v)->n : 99, 2);
	CHECK_STR(figures(m_get(callers(v), "app.py", 20, "main")), "50 50 0 50");
	CHECK_STR(figures(m_get(callers(v), "app.py", 50, "rec")), "50 50 50 50");
	CHECK_STR(figures(m_get(&d, "~", 0, "<truncated>")), "30 30 0 30");
	CHECK_STR(figures(m_get(&d, "/tmp/\xef\xbf\xbd(.py", 7, "caf\xef\xbf\xbd\xef\xbf\xbd")),
		  "15 15 15 15");
	/* controls escaped as every other format does: pstats prints names as they are */
	CHECK_STR(figures(m_get(&d, "<img src=x>", 1, "q\"b\\s\\x0a\\x01\\u2028")), "7 7 7 7");
	CHECK(!has_control_str(&d));
	CHECK_STR(figures(m_get(&d, "/usr/lib/python3.12/json/decoder.py", 332,
				"JSONDecoder.decode")),
		  "20 20 20 20");
	/* pstats' "N function calls in T seconds": T is the sum of tt, the whole recording. */
	for (i = 0; i < d.n; i++)
		if (d.items[2 * i + 1].type == 't')
			tt += d.items[2 * i + 1].items[2].f;
	CHECK(near(tt, 522 * W / 1e9));
	m_free(&d);
	free(out);

	/* Line granularity: a key per line. */
	o.granularity = GRANULARITY_LINE;
	out = render_n(&render_pstats, s, &o, &err, &len);
	CHECK_INT(err, 0);
	CHECK(m_parse(out, len, &d));
	CHECK_STR(figures(m_get(&d, "app.py", 25, "main")), "370 370 0 370");
	CHECK_STR(figures(m_get(&d, "app.py", 27, "main")), "100 100 100 100");
	CHECK(m_get(&d, "app.py", 20, "main") == NULL);
	CHECK_STR(figures(m_get(callers(m_get(&d, "app.py", 51, "rec")), "app.py", 25, "main")),
		  "50 50 0 50");
	m_free(&d);
	free(out);
	session__free(s);
}

/* Big counts use marshal's long form; an empty session is an empty dict. */
static void test_pstats_edges(void)
{
	struct session *s = session__new();
	const struct mval *v;
	struct mval d;
	size_t len;
	char *out;
	int err, f;
	uint32_t st;

	out = render_n(&render_pstats, s, NULL, &err, &len);
	CHECK_INT(err, 0);
	CHECK_INT(len, 2);
	CHECK(len == 2 && !memcmp(out, "{0", 2));
	free(out);

	session__add_process(
		s, &(struct session_process){ 1, 1, "p", "", "", "", "", 0, "", "", 0, NULL });
	session__add_thread(s, 0, 1, "");
	f = session__intern_frame(
		s, &(struct session_frame){ "f", "f.py", 3000000000U, 3000000000U, FRAME_PYTHON });
	st = session__intern_stack(s, 0, f);
	session__add_sample(s, &(struct session_sample){ 0, 10000000000ULL, 0, st });
	out = render_n(&render_pstats, s, NULL, &err, &len);
	CHECK_INT(err, 0);
	CHECK(m_parse(out, len, &d));
	v = m_get(&d, "f.py", 3000000000LL, "f");
	CHECK(v != NULL);
	if (v)
		CHECK(v->items[3].f == 10.0);
	m_free(&d);
	free(out);
	session__free(s);
}

/* --- pprof: gunzip and a small protobuf reader -------------------------------------------- */

static unsigned char *gunzip(const char *in, size_t len, size_t *outlen)
{
	z_stream z = { 0 };
	size_t cap = 1 << 16, n = 0;
	unsigned char *out = malloc(cap);
	int ret;

	/* 15 + 16: gzip only, so a zlib or raw stream fails. */
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return NULL;
	z.next_in = (Bytef *)in;
	z.avail_in = len;
	do {
		if (n == cap)
			out = realloc(out, cap *= 2);
		z.next_out = out + n;
		z.avail_out = cap - n;
		ret = inflate(&z, Z_NO_FLUSH);
		n = cap - z.avail_out;
	} while (ret == Z_OK);
	inflateEnd(&z);
	if (ret != Z_STREAM_END || z.avail_in) {
		free(out);
		return NULL;
	}
	*outlen = n;
	return out;
}

struct field {
	uint32_t num;
	int wire;
	uint64_t v;		   /* varint */
	const unsigned char *data; /* length-delimited */
	size_t len;
};

struct pbr {
	const unsigned char *p, *end;
	bool bad;
};

static uint64_t pbr_varint(struct pbr *r)
{
	uint64_t v = 0;
	int shift;

	for (shift = 0; shift < 64 && r->p < r->end; shift += 7) {
		unsigned char b = *r->p++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

/* The next field, or false at the end (or on damage: r->bad). */
static bool pbr_next(struct pbr *r, struct field *f)
{
	uint64_t key;

	if (r->bad || r->p >= r->end)
		return false;
	key = pbr_varint(r);
	f->num = key >> 3;
	f->wire = key & 7;
	if (f->wire == 0) {
		f->v = pbr_varint(r);
	} else if (f->wire == 2) {
		f->len = pbr_varint(r);
		if (r->bad || f->len > (size_t)(r->end - r->p)) {
			r->bad = true;
			return false;
		}
		f->data = r->p;
		r->p += f->len;
	} else {
		r->bad = true; /* pyflare writes only varints and length-delimited fields */
	}
	return !r->bad;
}

#define MAXS 64

struct prof {
	char *strs[256];
	size_t nstrs;
	uint64_t sample_type[4][2];
	size_t ntypes;
	struct psample {
		uint64_t loc[16];
		size_t nloc;
		int64_t values[2];
		size_t nvalues;
		int64_t pid, tid;
		uint64_t thread_name, process, members;
	} samples[MAXS];
	size_t nsamples;
	uint64_t loc_func[64], loc_line[64];		 /* by location id */
	uint64_t fn_name[64], fn_file[64], fn_start[64]; /* by function id */
	int64_t time_nanos, duration, period, default_type;
	uint64_t period_type[2];
	size_t ncomments;
	size_t nmappings;
	bool mapping_symbolized; /* has_functions, has_filenames, has_line_numbers */
	bool bad;
};

static void parse_value_type(const struct field *f, uint64_t out[2], struct prof *p)
{
	struct pbr r = { .p = f->data, .end = f->data + f->len };
	struct field g;

	while (pbr_next(&r, &g))
		if (g.num == 1 || g.num == 2)
			out[g.num - 1] = g.v;
	p->bad |= r.bad;
}

static void parse_packed(const struct field *f, uint64_t *out, size_t max, size_t *n, bool *bad)
{
	struct pbr r = { .p = f->data, .end = f->data + f->len };

	while (r.p < r.end && !r.bad) {
		uint64_t v = pbr_varint(&r);

		if (*n < max)
			out[(*n)++] = v;
		else
			*bad = true;
	}
	*bad |= r.bad;
}

static void parse_sample(const struct field *f, struct prof *p)
{
	struct pbr r = { .p = f->data, .end = f->data + f->len };
	struct psample *smp;
	struct field g;

	if (p->nsamples == MAXS) {
		p->bad = true;
		return;
	}
	smp = &p->samples[p->nsamples++];
	memset(smp, 0, sizeof(*smp));
	while (pbr_next(&r, &g)) {
		if (g.num == 1 && g.wire == 2) {
			parse_packed(&g, smp->loc, 16, &smp->nloc, &p->bad);
		} else if (g.num == 2 && g.wire == 2) {
			uint64_t vals[2];

			parse_packed(&g, vals, 2, &smp->nvalues, &p->bad);
			smp->values[0] = vals[0];
			smp->values[1] = vals[1];
		} else if (g.num == 3 && g.wire == 2) {
			struct pbr lr = { .p = g.data, .end = g.data + g.len };
			uint64_t key = 0, s = 0, num = 0;
			struct field h;

			while (pbr_next(&lr, &h)) {
				if (h.num == 1)
					key = h.v;
				else if (h.num == 2)
					s = h.v;
				else if (h.num == 3)
					num = h.v;
			}
			p->bad |= lr.bad || key >= p->nstrs;
			if (p->bad)
				continue;
			if (!strcmp(p->strs[key], "pid"))
				smp->pid = num;
			else if (!strcmp(p->strs[key], "tid"))
				smp->tid = num;
			else if (!strcmp(p->strs[key], "thread_name"))
				smp->thread_name = s;
			else if (!strcmp(p->strs[key], "process"))
				smp->process = s;
			else if (!strcmp(p->strs[key], "members"))
				smp->members = s;
		} else {
			p->bad = true;
		}
	}
	p->bad |= r.bad;
}

static void parse_mapping(const struct field *f, struct prof *p)
{
	struct pbr r = { .p = f->data, .end = f->data + f->len };
	uint64_t id = 0, flags = 0;
	struct field g;

	while (pbr_next(&r, &g)) {
		if (g.num == 1)
			id = g.v;
		else if (g.num >= 7 && g.num <= 9 && g.v)
			flags |= 1 << g.num;
	}
	p->bad |= r.bad || id != 1;
	p->nmappings++;
	p->mapping_symbolized = flags == (1 << 7 | 1 << 8 | 1 << 9);
}

static void parse_location(const struct field *f, struct prof *p)
{
	struct pbr r = { .p = f->data, .end = f->data + f->len };
	uint64_t id = 0, func = 0, line = 0, mapping = 0;
	struct field g;

	while (pbr_next(&r, &g)) {
		if (g.num == 1) {
			id = g.v;
		} else if (g.num == 2) {
			mapping = g.v;
		} else if (g.num == 4) {
			struct pbr lr = { .p = g.data, .end = g.data + g.len };
			struct field h;

			while (pbr_next(&lr, &h)) {
				if (h.num == 1)
					func = h.v;
				else if (h.num == 2)
					line = h.v;
			}
			p->bad |= lr.bad;
		}
	}
	if (!id || id >= 64 || p->loc_func[id] || mapping != 1) {
		p->bad = true;
		return;
	}
	p->loc_func[id] = func;
	p->loc_line[id] = line;
}

static void parse_function(const struct field *f, struct prof *p)
{
	struct pbr r = { .p = f->data, .end = f->data + f->len };
	uint64_t id = 0, name = 0, file = 0, start = 0, system = 0;
	struct field g;

	while (pbr_next(&r, &g)) {
		if (g.num == 1)
			id = g.v;
		else if (g.num == 2)
			name = g.v;
		else if (g.num == 3)
			system = g.v;
		else if (g.num == 4)
			file = g.v;
		else if (g.num == 5)
			start = g.v;
	}
	if (!id || id >= 64 || p->fn_name[id] || system) {
		p->bad = true;
		return;
	}
	p->fn_name[id] = name;
	p->fn_file[id] = file;
	p->fn_start[id] = start;
}

/* Strings first, as a reader would resolve them after reading everything. */
static bool parse_profile(const unsigned char *buf, size_t len, struct prof *p)
{
	struct pbr r = { .p = buf, .end = buf + len };
	struct field f;

	memset(p, 0, sizeof(*p));
	while (pbr_next(&r, &f)) {
		if (f.num == 6 && f.wire == 2) {
			if (p->nstrs == 256)
				return false;
			p->strs[p->nstrs++] = strndup((const char *)f.data, f.len);
			p->bad |= !valid_utf8_n((const char *)f.data, f.len);
		}
	}
	r = (struct pbr){ .p = buf, .end = buf + len };
	while (pbr_next(&r, &f)) {
		switch (f.num) {
		case 1:
			if (p->ntypes < 4)
				parse_value_type(&f, p->sample_type[p->ntypes++], p);
			break;
		case 2:
			parse_sample(&f, p);
			break;
		case 3:
			parse_mapping(&f, p);
			break;
		case 4:
			parse_location(&f, p);
			break;
		case 5:
			parse_function(&f, p);
			break;
		case 9:
			p->time_nanos = f.v;
			break;
		case 10:
			p->duration = f.v;
			break;
		case 11:
			parse_value_type(&f, p->period_type, p);
			break;
		case 12:
			p->period = f.v;
			break;
		case 13:
			p->ncomments++;
			p->bad |= f.v >= p->nstrs;
			break;
		case 14:
			p->default_type = f.v;
			break;
		case 6:
			break;
		default:
			p->bad = true;
		}
	}
	return !r.bad && !p->bad && p->nstrs && !strcmp(p->strs[0], "");
}

static void prof_free(struct prof *p)
{
	size_t i;

	for (i = 0; i < p->nstrs; i++)
		free(p->strs[i]);
}

static const char *pstr(const struct prof *p, uint64_t i)
{
	return i < p->nstrs ? p->strs[i] : "(bad index)";
}

/* "name@line<name@line<..." of a sample's locations, leaf first. */
static const char *sample_stack(const struct prof *p, const struct psample *smp)
{
	static char buf[1024];
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < smp->nloc && used < sizeof(buf); i++) {
		uint64_t loc = smp->loc[i] < 64 ? smp->loc[i] : 0;
		uint64_t fn = p->loc_func[loc] < 64 ? p->loc_func[loc] : 0;

		used += snprintf(buf + used, sizeof(buf) - used, "%s%s@%llu", i ? "<" : "",
				 fn ? pstr(p, p->fn_name[fn]) : "?",
				 (unsigned long long)p->loc_line[loc]);
	}
	return buf;
}

static const struct psample *find_sample(const struct prof *p, const char *stack, int64_t tid)
{
	size_t i;

	for (i = 0; i < p->nsamples; i++)
		if (p->samples[i].tid == tid && !strcmp(sample_stack(p, &p->samples[i]), stack))
			return &p->samples[i];
	return NULL;
}

static void test_pprof(void)
{
	struct session *s = fixture();
	struct render_opts o = render_opts_default;
	const struct psample *smp;
	unsigned char *pb;
	size_t len, pblen = 0, i;
	int64_t ns = 0, count = 0;
	struct prof p;
	char *out;
	int err;

	out = render_n(&render_pprof, s, &o, &err, &len);
	CHECK_INT(err, 0);
	CHECK(len > 18 && (unsigned char)out[0] == 0x1f && (unsigned char)out[1] == 0x8b);
	pb = gunzip(out, len, &pblen);
	CHECK(pb != NULL);
	if (!pb) {
		free(out);
		session__free(s);
		return;
	}
	CHECK(parse_profile(pb, pblen, &p));
	CHECK_INT(p.ntypes, 2);
	CHECK_STR(pstr(&p, p.sample_type[0][0]), "samples");
	CHECK_STR(pstr(&p, p.sample_type[0][1]), "count");
	CHECK_STR(pstr(&p, p.sample_type[1][0]), "cpu");
	CHECK_STR(pstr(&p, p.sample_type[1][1]), "nanoseconds");
	CHECK_STR(pstr(&p, p.default_type), "cpu");
	CHECK_STR(pstr(&p, p.period_type[0]), "cpu");
	CHECK_STR(pstr(&p, p.period_type[1]), "nanoseconds");
	CHECK_INT(p.period, 1001001);
	CHECK_INT(p.time_nanos, 1700000000123456789LL);
	CHECK_INT(p.duration, 2000000000LL);
	CHECK_INT(p.ncomments, 2);
	CHECK_INT(p.nmappings, 1);
	CHECK(p.mapping_symbolized);
	/* One sample per (thread, stack): 4 + 1 + 3. */
	CHECK_INT(p.nsamples, 8);
	for (i = 0; i < p.nsamples; i++) {
		CHECK_INT(p.samples[i].nvalues, 2);
		CHECK_INT(p.samples[i].values[1], p.samples[i].values[0] * (int64_t)W);
		count += p.samples[i].values[0];
		ns += p.samples[i].values[1];
	}
	CHECK_INT(count, 522);
	CHECK_INT(ns, 522 * (int64_t)W);

	smp = find_sample(&p, "rec@50<rec@50<rec@50<main@20<<module>@1", 4242);
	CHECK(smp != NULL);
	if (smp) {
		CHECK_INT(smp->values[0], 50);
		CHECK_INT(smp->pid, 4242);
		CHECK_STR(pstr(&p, smp->thread_name), "MainThread");
		CHECK_STR(pstr(&p, smp->process), "python3");
		/* Functions carry the file and first line. */
		CHECK_STR(pstr(&p, p.fn_file[p.loc_func[smp->loc[0]]]), "app.py");
		CHECK_INT(p.fn_start[p.loc_func[smp->loc[0]]], 50);
	}
	/* main:25 and main:27 fold into one location at function granularity. */
	smp = find_sample(&p, "main@20<<module>@1", 4242);
	CHECK(smp != NULL && smp->values[0] == 100);
	smp = find_sample(&p, "work@40<<truncated>@0", 4243);
	CHECK(smp != NULL && smp->values[0] == 30);
	if (smp) {
		CHECK_STR(pstr(&p, smp->thread_name), "worker");
		CHECK_STR(pstr(&p, p.fn_file[p.loc_func[smp->loc[1]]]), "");
	}
	smp = find_sample(&p, "caf\xef\xbf\xbd\xef\xbf\xbd@7", 5000);
	CHECK(smp != NULL && smp->values[0] == 10);
	if (smp) {
		CHECK_STR(pstr(&p, smp->process), "\\x1b[31mev\xef\xbf\xbdil");
		CHECK_STR(pstr(&p, smp->thread_name), "\xef\xbf\xbd\xef\xbf\xbd");
		CHECK_INT(smp->pid, 5000);
	}
	/* go tool pprof -top prints names to the terminal: controls escaped */
	smp = find_sample(&p, "q\"b\\s\\x0a\\x01\\u2028@1", 5000);
	CHECK(smp != NULL && smp->values[0] == 7);
	for (size_t k = 0; k < p.nstrs; k++)
		CHECK(!has_control(p.strs[k]));
	prof_free(&p);
	free(pb);
	free(out);

	/* Line granularity: a location per line, one function for both of main's lines. */
	o.granularity = GRANULARITY_LINE;
	out = render_n(&render_pprof, s, &o, &err, &len);
	CHECK_INT(err, 0);
	pb = gunzip(out, len, &pblen);
	CHECK(pb && parse_profile(pb, pblen, &p));
	if (pb) {
		const struct psample *a = find_sample(&p, "main@27<<module>@10", 4242);
		const struct psample *b = find_sample(&p, "work@42<main@25<<module>@10", 4242);

		CHECK(a != NULL && b != NULL);
		if (a && b) {
			CHECK(a->loc[0] != b->loc[1]);
			CHECK_INT(p.loc_func[a->loc[0]], p.loc_func[b->loc[1]]);
			CHECK_INT(p.fn_start[p.loc_func[a->loc[0]]], 20);
		}
		prof_free(&p);
	}
	free(pb);
	free(out);
	session__free(s);
}

/* A group has its members instead of a PID, a merged thread no TID; the comment says so. */
static void test_pprof_groups(void)
{
	struct session *s = fixture(), *g = session_group(s, GROUP_BY_NONE);
	struct render_opts o = render_opts_default;
	const struct psample *smp;
	unsigned char *pb = NULL;
	size_t len, pblen = 0, i;
	struct prof p;
	bool has_comment = false;
	char *out;
	int err;

	o.group_by = GROUP_BY_NONE;
	out = g ? render_n(&render_pprof, g, &o, &err, &len) : NULL;
	CHECK(out != NULL);
	pb = out ? gunzip(out, len, &pblen) : NULL;
	CHECK(pb != NULL && parse_profile(pb, pblen, &p));
	if (!pb)
		goto out;
	/* the merged MainThread (of 4242 and 6000): no tid, no pid */
	smp = find_sample(&p, "main@20<<module>@1", 0);
	CHECK(smp != NULL);
	if (smp) {
		CHECK_INT(smp->values[0], 100);
		CHECK_INT(smp->pid, 0);
		CHECK_STR(pstr(&p, smp->members), "4242,5000,6000");
		CHECK_STR(pstr(&p, smp->thread_name), "MainThread");
	}
	/* the worker is one thread: its TID stays */
	smp = find_sample(&p, "work@40<<truncated>@0", 4243);
	CHECK(smp != NULL && smp->pid == 0 && !strcmp(pstr(&p, smp->members), "4242,5000,6000"));
	for (i = 0; i < p.nstrs; i++)
		has_comment |= !strcmp(p.strs[i], "target: python3 app.py; clock: timer at 999 Hz; "
						  "granularity: function; grouped by none");
	CHECK(has_comment);
	prof_free(&p);
out:
	free(pb);
	free(out);
	session__free(g);
	session__free(s);
}

static void test_pprof_empty(void)
{
	struct session *s = session__new();
	unsigned char *pb;
	size_t len, pblen = 0;
	struct prof p;
	char *out;
	int err;

	out = render_n(&render_pprof, s, NULL, &err, &len);
	CHECK_INT(err, 0);
	pb = gunzip(out, len, &pblen);
	CHECK(pb != NULL);
	CHECK(pb && parse_profile(pb, pblen, &p));
	if (pb) {
		CHECK_INT(p.nsamples, 0);
		CHECK_INT(p.period, 0);
		CHECK_STR(pstr(&p, p.default_type), "cpu");
		prof_free(&p);
	}
	free(pb);
	free(out);
	session__free(s);
}

/*
 * Many frames, a third of them with ill-formed names: every table grows past its first size,
 * each string is in the table once, and pstats has a key per function.
 */
static void test_many_frames(void)
{
	struct session *s = session__new();
	size_t len, pblen = 0, counts[16] = { 0 }, i;
	struct pbr r;
	struct field f;
	struct mval d;
	unsigned char *pb;
	char **seen;
	char *out;
	int err, k;

	session__add_process(
		s, &(struct session_process){ 1, 1, "p", "", "", "", "", 0, "", "", 0, NULL });
	session__add_thread(s, 0, 1, "t");
	for (k = 0; k < 3000; k++) {
		char name[32];
		int64_t fr;
		uint32_t st;

		snprintf(name, sizeof(name), k % 3 ? "f%d" : "f%d\xff", k);
		fr = session__intern_frame(
			s, &(struct session_frame){ name, "m.py", k + 1, k + 1, FRAME_PYTHON });
		st = session__intern_stack(s, session__intern_stack(s, 0, 0), fr);
		session__add_sample(s, &(struct session_sample){ k, 1000, 0, st });
	}
	out = render_n(&render_pprof, s, NULL, &err, &len);
	CHECK_INT(err, 0);
	pb = gunzip(out, len, &pblen);
	CHECK(pb != NULL);
	seen = calloc(4000, sizeof(*seen));
	r = (struct pbr){ .p = pb, .end = pb ? pb + pblen : NULL };
	while (pb && pbr_next(&r, &f)) {
		if (f.num < 16)
			counts[f.num]++;
		if (f.num == 6 && counts[6] <= 4000) {
			seen[counts[6] - 1] = strndup((const char *)f.data, f.len);
			CHECK(valid_utf8_n((const char *)f.data, f.len));
		}
	}
	CHECK(!r.bad);
	CHECK_INT(counts[2], 3000); /* samples */
	CHECK_INT(counts[4], 3000); /* locations */
	CHECK_INT(counts[5], 3000); /* functions */
	/* "" + 3000 names + file, thread, comm + types, units, labels, mapping, 2 comments */
	CHECK_INT(counts[6], 1 + 3000 + 3 + 11);
	for (i = 0; seen[0] && i + 1 < counts[6] && i < 4000; i++) {
		size_t j;

		for (j = i + 1; j < counts[6] && j < 4000; j++)
			if (seen[i] && seen[j] && !strcmp(seen[i], seen[j]))
				CHECK_STR(seen[i], "(twice)");
	}
	CHECK_STR(seen[0], "");
	for (i = 0; i < 4000; i++)
		free(seen[i]);
	free(seen);
	free(pb);
	free(out);

	out = render_n(&render_pstats, s, NULL, &err, &len);
	CHECK_INT(err, 0);
	CHECK(m_parse(out, len, &d));
	CHECK_INT(d.n, 3000);
	/* Every stack is f0 -> fK: f0 is on all of them, itself once. */
	CHECK_STR(figures(m_get(&d, "m.py", 1, "f0\xef\xbf\xbd")), "3000 3000 0.000999 2.997");
	CHECK_STR(figures(m_get(&d, "m.py", 3000, "f2999")), "1 1 0.000999 0.000999");
	m_free(&d);
	free(out);
	session__free(s);
}

/* A full stream reports the error instead of a truncated file passing as complete. */
static void test_write_errors(void)
{
	const struct renderer *rs[] = { &render_json, &render_pstats, &render_pprof };
	struct session *s = fixture();
	size_t i;

	for (i = 0; i < 3; i++) {
		FILE *f = fopen("/dev/full", "w");

		CHECK(f != NULL);
		if (!f)
			continue;
		setvbuf(f, NULL, _IONBF, 0);
		CHECK_INT(rs[i]->render(s, NULL, f), -EIO);
		fclose(f);
	}
	session__free(s);
}

/* $PYFLARE_FORMATS_OUT=DIR keeps the fixture's files, to try them in pstats and go tool pprof. */
static void save_outputs(void)
{
	static const char *const names[] = { "fixture.json", "fixture.pstats", "fixture.pb.gz" };
	const struct renderer *rs[] = { &render_json, &render_pstats, &render_pprof };
	const char *dir = getenv("PYFLARE_FORMATS_OUT");
	struct session *s;
	size_t i;

	if (!dir || !*dir)
		return;
	s = fixture();
	for (i = 0; i < 3; i++) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		f = fopen(path, "w");
		CHECK(f != NULL);
		if (!f)
			continue;
		CHECK_INT(rs[i]->render(s, NULL, f), 0);
		fclose(f);
	}
	session__free(s);
}

int main(void)
{
	RUN(test_registry);
	RUN(test_json);
	RUN(test_json_deep);
	RUN(test_json_empty);
	RUN(test_json_groups);
	RUN(test_pstats);
	RUN(test_pstats_edges);
	RUN(test_pprof);
	RUN(test_pprof_groups);
	RUN(test_pprof_empty);
	RUN(test_many_frames);
	RUN(test_write_errors);
	RUN(save_outputs);
	return test_summary();
}
