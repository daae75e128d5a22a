/* SPDX-License-Identifier: MIT */
/* test_render_html.c — the HTML report: hostile names stay inert text, the data is right. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "render/frame_filter.h"
#include "fixture.h"
#include "html_assets.h"
#include "render/render.h"
#include "session/session_group.h"
#include "test.h"

/*
 * Environment:
 *   PYFLARE_HTML_HOSTILE_OUT=PATH  also write the hostile report there (for the browser test)
 *   PYFLARE_HTML_BIG_OUT=PATH      render a 10-minute host-wide sized session there
 */

enum {
	F_MOD,
	F_MAIN,
	F_LOADS,
	F_DECODE,
	F_CB,
	F_REQ,
	F_IMG,
	F_LS,
	F_BAD,
	F_QUOTE,
	F_COMMENT,
	F_TRUNC,
	NF
};

#define IMG "<img src=x onerror=alert(1)>"
#define SCRIPT "</script><script>alert(1)</script>"

static const struct session_frame fixture_frames[NF] = {
	[F_MOD] = { "<module>", "/srv/app.py", 1, 30, FRAME_PYTHON },
	[F_MAIN] = { "main", "/srv/app.py", 10, 12, FRAME_PYTHON },
	[F_LOADS] = { "loads", "/usr/lib/python3.12/json/__init__.py", 299, 346, FRAME_PYTHON },
	[F_DECODE] = { "JSONDecoder.decode", "/usr/lib/python3.12/json/decoder.py", 332, 337,
		       FRAME_PYTHON },
	[F_CB] = { "callback", "/srv/app.py", 20, 21, FRAME_PYTHON },
	[F_REQ] = { "get", "/venv/lib/python3.12/site-packages/requests/api.py", 62, 73,
		    FRAME_PYTHON },
	[F_IMG] = { IMG, SCRIPT ".py", 1, 2, FRAME_PYTHON },
	[F_LS] = { "a\xe2\x80\xa8"
		   "b\xe2\x80\xa9"
		   "c",
		   "x.py", 3, 4, FRAME_PYTHON },
	[F_BAD] = FX_BAD,
	[F_QUOTE] = { "say \"hi\" \\ it's", "C:\\x\\y.py", 5, 6, FRAME_PYTHON },
	[F_COMMENT] = { "<!-- <script>", "&amp;<\x7f\x01", 9, 9, FRAME_PYTHON },
	[F_TRUNC] = FX_TRUNC,
};

/*
 * Process 4242 python3 (stdlib /usr/lib/python3.12): MainThread 100 samples in
 * <module> main loads decode, 50 more with a callback below decode, 10 in main; a worker 20
 * samples of weight 2W in requests. Process 5000 with hostile names everywhere: 7 samples in
 * hostile frames, 3 under a truncation marker. Process 6000 has no samples.
 */
static const struct fixture_spec fixture_spec = {
	.target = "python3 </title><script>alert(4)</script>",
	.health = { 190, 3, 3, 1, 4, 9, 2, 3, 1 },
	.refused_comm = "<i>x</i>",
	.refused_reason = "unsupported </script> 3.15",
	.lib_dirs = "/usr/lib/python3.12",
	.evil_comm = "<b>evil</b>",
	.evil_cmdline = "</script><script>alert(2)</script>",
	.evil_thread = "<svg onload=alert(3)>",
	.frames = fixture_frames,
	.nframes = NF,
};

static struct session *fixture(void)
{
	static const int sa[] = { F_MOD, F_MAIN, F_LOADS, F_DECODE };
	static const int sb[] = { F_MOD, F_MAIN, F_LOADS, F_DECODE, F_CB };
	static const int sc[] = { F_MOD, F_MAIN }, sr[] = { F_REQ };
	static const int sh[] = { F_IMG, F_LS, F_BAD, F_QUOTE, F_COMMENT };
	static const int st[] = { F_TRUNC, F_IMG };
	struct fixture_threads th;
	struct session *s = fixture_session(&fixture_spec, &th);
	uint64_t t;

	t = 1000;
	add_n(s, th.mainth, stack_of(s, sa, 4), 100, W, &t);
	add_n(s, th.mainth, stack_of(s, sb, 5), 50, W, &t);
	add_n(s, th.mainth, stack_of(s, sc, 2), 10, W, &t);
	t = 500000000;
	add_n(s, th.worker, stack_of(s, sr, 1), 20, 2 * W, &t);
	t = 0;
	add_n(s, th.hostile, stack_of(s, sh, 5), 7, W, &t);
	add_n(s, th.hostile, stack_of(s, st, 2), 3, W, &t);
	return s;
}

static size_t count_ci(const char *hay, const char *needle)
{
	size_t n = 0, len = strlen(needle);

	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, len))
			n++;
	return n;
}

#define DATA_OPEN "<script type=\"application/json\" id=\"pyflare-data\">"

/* The embedded JSON, parsed; NULL when it is not there or does not parse. */
static cJSON *data_of(const char *html, bool *inert)
{
	const char *from = strstr(html, DATA_OPEN), *to;
	cJSON *doc;
	char *text;

	if (!from)
		return NULL;
	from += strlen(DATA_OPEN);
	to = strstr(from, "</script>");
	if (!to)
		return NULL;
	/* Nothing in the data may look like markup to the HTML tokenizer. */
	*inert = !memchr(from, '<', to - from);
	text = strndup(from, to - from);
	doc = cJSON_Parse(text);
	free(text);
	return doc;
}

/* --- reading the data back ------------------------------------------------------------------ */

struct data {
	cJSON *doc, *strings, *frames, *stacks;
	int nframes, nstacks;
};

static void data_init(struct data *d, cJSON *doc)
{
	d->doc = doc;
	d->strings = cJSON_GetObjectItem(doc, "strings");
	d->frames = cJSON_GetObjectItem(doc, "frames");
	d->stacks = cJSON_GetObjectItem(doc, "stacks");
	d->nframes = cJSON_GetArraySize(d->frames) / 4;
	d->nstacks = cJSON_GetArraySize(d->stacks) / 2 + 1;
}

/* The integer at index @i of @arr. */
static int int_at(cJSON *arr, int i)
{
	return cJSON_GetArrayItem(arr, i)->valueint;
}

static const char *string_at(struct data *d, int i)
{
	cJSON *s = cJSON_GetArrayItem(d->strings, i);

	return cJSON_IsString(s) ? s->valuestring : NULL;
}

static const char *frame_name(struct data *d, int f)
{
	return string_at(d, int_at(d->frames, 4 * f));
}

static const char *frame_file(struct data *d, int f)
{
	return string_at(d, int_at(d->frames, 4 * f + 1));
}

static int frame_by_name(struct data *d, const char *name)
{
	int f;

	for (f = 0; f < d->nframes; f++)
		if (frame_name(d, f) && !strcmp(frame_name(d, f), name))
			return f;
	return -1;
}

/* "a;b;c" root first, for stack node @node. */
static void stack_text(struct data *d, int node, char *buf, size_t len)
{
	int path[64], k = 0;
	size_t used = 0;

	buf[0] = '\0';
	while (node > 0 && k < 64) {
		path[k++] = int_at(d->stacks, 2 * node - 1);
		node = int_at(d->stacks, 2 * node - 2);
	}
	while (k--)
		used += snprintf(buf + used, len - used, "%s%s", frame_name(d, path[k]),
				 k ? ";" : "");
}

/* Sums the weight (in units) of thread @th's entries, all of them or of one stack text. */
static long long thread_weight(struct data *d, int th, const char *stack)
{
	cJSON *thread = cJSON_GetArrayItem(cJSON_GetObjectItem(d->doc, "threads"), th);
	cJSON *b = cJSON_GetObjectItem(thread, "buckets");
	int n = cJSON_GetArraySize(b), i = 0;
	long long sum = 0;
	char text[1024];

	while (i < n) {
		int m = int_at(b, i + 1), k;

		i += 2;
		for (k = 0; k < m; k++, i += 2) {
			if (stack) {
				stack_text(d, int_at(b, i), text, sizeof(text));
				if (strcmp(text, stack))
					continue;
			}
			sum += int_at(b, i + 1);
		}
	}
	return sum;
}

/* --- tests ------------------------------------------------------------------------------------ */

static void test_registry(void)
{
	CHECK_STR(render_html.name, "html");
	CHECK_STR(render_html.extensions[0], ".html");
	/* the page's own parts can never close their elements early */
	CHECK(!memmem(report_js, report_js_len, "</script", 8));
	CHECK(!memmem(report_js, report_js_len, "<!--", 4));
	CHECK(!memmem(report_css, report_css_len, "</style", 7));
	CHECK(memmem(report_html, report_html_len, "<!--pyflare:data-->", 19));
	CHECK(memmem(report_html, report_html_len, "<!--pyflare:js-->", 17));
	CHECK(strlen(REPORT_JS_SHA256) == 44);
}

static void test_hostile(void)
{
	struct session *s = fixture();
	struct data d;
	bool inert = false;
	const char *path = getenv("PYFLARE_HTML_HOSTILE_OUT");
	char *html;
	cJSON *doc, *procs, *threads, *meta;
	int err, f;

	html = render(&render_html, s, NULL, &err);
	CHECK_INT(err, 0);
	CHECK(html && valid_utf8(html));
	/* the page's two scripts and nothing more: no name opened or closed an element */
	CHECK_INT(count_ci(html, "<script"), 2);
	CHECK_INT(count_ci(html, "</script"), 2);
	CHECK_INT(count_ci(html, "<title"), 1);
	CHECK_INT(count_ci(html, "</title"), 1);
	CHECK(!strstr(html, "<img") && !strstr(html, "<svg") && !strstr(html, "<b>"));
	CHECK(!strstr(html, "\xe2\x80\xa8") && !strstr(html, "\xe2\x80\xa9"));
	CHECK(strstr(html, "<title>pyflare: python3 &lt;/title&gt;&lt;script&gt;alert(4)"
			   "&lt;/script&gt;</title>"));
	CHECK(strstr(html, "script-src 'sha256-" REPORT_JS_SHA256 "'"));
	CHECK(strstr(html, "default-src 'none'"));
	CHECK(!strstr(html, "<!--pyflare:"));

	doc = data_of(html, &inert);
	CHECK(doc != NULL);
	CHECK(inert);
	if (!doc)
		goto out;
	data_init(&d, doc);
	/* names come back exactly; bytes that are not UTF-8 come back as U+FFFD */
	f = frame_by_name(&d, IMG);
	CHECK(f >= 0);
	if (f >= 0)
		CHECK_STR(frame_file(&d, f), SCRIPT ".py");
	CHECK(frame_by_name(&d, "a\xe2\x80\xa8"
				"b\xe2\x80\xa9"
				"c") >= 0);
	CHECK(frame_by_name(&d, "caf\xef\xbf\xbd\xef\xbf\xbd") >= 0);
	f = frame_by_name(&d, "say \"hi\" \\ it's");
	CHECK(f >= 0);
	if (f >= 0)
		CHECK_STR(frame_file(&d, f), "C:\\x\\y.py");
	f = frame_by_name(&d, "<!-- <script>");
	CHECK(f >= 0);
	if (f >= 0)
		CHECK_STR(frame_file(&d, f), "&amp;<\x7f\x01");
	f = frame_by_name(&d, "/tmp/\xef\xbf\xbd(.py");
	CHECK(frame_by_name(&d, "<truncated>") >= 0);

	procs = cJSON_GetObjectItem(doc, "processes");
	threads = cJSON_GetObjectItem(doc, "threads");
	meta = cJSON_GetObjectItem(doc, "meta");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(procs, 1), "comm")),
		  "<b>evil</b>");
	CHECK_STR(
		cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(procs, 1), "cmdline")),
		"</script><script>alert(2)</script>");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(threads, 2), "name")),
		  "<svg onload=alert(3)>");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(meta, "target")),
		  "python3 </title><script>alert(4)</script>");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(
			  cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "refusals"), 0), "reason")),
		  "unsupported </script> 3.15");
	CHECK_INT(thread_weight(&d, 2,
				IMG ";a\xe2\x80\xa8"
				    "b\xe2\x80\xa9"
				    "c;caf\xef\xbf\xbd"
				    "\xef\xbf\xbd;say \"hi\" \\ it's;<!-- <script>"),
		  7);
	CHECK_INT(thread_weight(&d, 2, "<truncated>;" IMG), 3);
	cJSON_Delete(doc);
out:
	if (path && html) {
		FILE *o = fopen(path, "w");

		CHECK(o != NULL);
		if (o) {
			fputs(html, o);
			fclose(o);
		}
	}
	free(html);
	session__free(s);
}

static void test_values(void)
{
	struct session *s = fixture();
	struct frame_filter *filter = frame_filter__new();
	struct render_opts o = render_opts_default;
	struct data d;
	bool inert;
	char *html;
	cJSON *doc, *meta, *hidden, *threads;
	int err, k, found = 0;

	o.filter = filter;
	html = render(&render_html, s, &o, &err);
	CHECK_INT(err, 0);
	doc = html ? data_of(html, &inert) : NULL;
	CHECK(doc != NULL);
	if (!doc)
		goto out;
	data_init(&d, doc);
	meta = cJSON_GetObjectItem(doc, "meta");
	/* weights are in units of the largest common divisor: one sample here */
	CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(meta, "unit_ns")), W);
	CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(meta, "samples")), 190);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(meta, "hide_default")));
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(meta, "granularity")), "function");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(meta, "recorded_at")),
		  "2023-11-14T22:13:20.123Z");
	CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(meta, "start_ms")) > 1700000000123.0);
	CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(meta, "start_ms")) < 1700000000124.0);
	CHECK_INT(cJSON_GetNumberValue(
			  cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "health"), "lost")),
		  3);
	CHECK_INT(thread_weight(&d, 0, NULL), 160);
	CHECK_INT(thread_weight(&d, 0, "<module>;main;loads;JSONDecoder.decode"), 100);
	CHECK_INT(thread_weight(&d, 0, "<module>;main;loads;JSONDecoder.decode;callback"), 50);
	CHECK_INT(thread_weight(&d, 0, "<module>;main"), 10);
	CHECK_INT(thread_weight(&d, 1, NULL), 40);
	CHECK_INT(thread_weight(&d, 1, "get"), 40);
	CHECK_INT(thread_weight(&d, 2, NULL), 10);
	CHECK_INT(thread_weight(&d, 3, NULL), 0);
	threads = cJSON_GetObjectItem(doc, "threads");
	CHECK_INT(cJSON_GetArraySize(threads), 4);
	CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(threads, 1), "tid")),
		  4243);
	/* process 4242 hides json (stdlib) and requests (site-packages), not its own code */
	hidden = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "processes"), 0),
				     "hidden");
	CHECK_INT(cJSON_GetArraySize(hidden), 6);
	for (k = 0; k + 1 < cJSON_GetArraySize(hidden); k += 2) {
		const char *name = frame_name(&d, int_at(hidden, k));
		const char *lib = string_at(&d, int_at(hidden, k + 1));

		if (!strcmp(name, "loads") || !strcmp(name, "JSONDecoder.decode")) {
			CHECK_STR(lib, "json");
			found++;
		} else if (!strcmp(name, "get")) {
			CHECK_STR(lib, "requests");
			found++;
		}
	}
	CHECK_INT(found, 3);
	/* process 5000's frames are all its own; process 6000 has none */
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(
			  cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "processes"), 1), "hidden")),
		  0);
	cJSON_Delete(doc);

	/* --show-all: nothing hidden, and the viewer starts with every frame shown */
	free(html);
	frame_filter__show_all(filter);
	html = render(&render_html, s, &o, &err);
	CHECK_INT(err, 0);
	doc = html ? data_of(html, &inert) : NULL;
	CHECK(doc != NULL);
	if (doc)
		CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(
				  cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "processes"), 0),
				  "hidden")),
			  0);
	cJSON_Delete(doc);
	/* no filter at all: library frames flagged, shown at first */
	free(html);
	html = render(&render_html, s, NULL, &err);
	doc = html ? data_of(html, &inert) : NULL;
	CHECK(doc != NULL);
	if (doc) {
		meta = cJSON_GetObjectItem(doc, "meta");
		CHECK(cJSON_IsFalse(cJSON_GetObjectItem(meta, "hide_default")));
		CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(
				  cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "processes"), 0),
				  "hidden")),
			  6);
	}
	cJSON_Delete(doc);
out:
	free(html);
	frame_filter__free(filter);
	session__free(s);
}

/* --group-by none: one process listing its members, the MainThreads merged, data inert. */
static void test_groups(void)
{
	struct session *s = fixture(), *g = session_group(s, GROUP_BY_NONE);
	struct frame_filter *filter = frame_filter__new();
	struct render_opts o = render_opts_default;
	cJSON *doc = NULL, *procs, *members, *threads;
	bool inert = false;
	struct data d;
	char *html;
	int err;

	o.filter = filter;
	o.group_by = GROUP_BY_NONE;
	html = g ? render(&render_html, g, &o, &err) : NULL;
	CHECK(html != NULL);
	doc = html ? data_of(html, &inert) : NULL;
	CHECK(doc != NULL && inert);
	if (!doc)
		goto out;
	data_init(&d, doc);
	CHECK_STR(cJSON_GetStringValue(
			  cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "meta"), "group_by")),
		  "none");
	procs = cJSON_GetObjectItem(doc, "processes");
	CHECK_INT(cJSON_GetArraySize(procs), 1);
	members = cJSON_GetObjectItem(cJSON_GetArrayItem(procs, 0), "members");
	CHECK_INT(cJSON_GetArraySize(members), 3);
	CHECK_INT(int_at(members, 0), 4242);
	CHECK_INT(int_at(members, 2), 6000);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(procs, 0), "comm")),
		  "python3 + <b>evil</b> + idle");
	/* library code of 4242 is still hidden in the group: json and requests */
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(procs, 0), "hidden")),
		  6);
	threads = cJSON_GetObjectItem(doc, "threads");
	CHECK_INT(cJSON_GetArraySize(threads), 3);
	CHECK_INT(
		cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(threads, 0), "merged")),
		2);
	CHECK(cJSON_GetObjectItem(cJSON_GetArrayItem(threads, 1), "merged") == NULL);
	CHECK_INT(thread_weight(&d, 0, NULL), 160);
	CHECK_INT(thread_weight(&d, 1, NULL), 40);
	CHECK_INT(thread_weight(&d, 2, NULL), 10);
out:
	cJSON_Delete(doc);
	free(html);
	frame_filter__free(filter);
	session__free(g);
	session__free(s);
}

/* Line granularity keeps one frame per line; function granularity one per function. */
static void test_granularity(void)
{
	struct session *s = session__new();
	struct render_opts o = render_opts_default;
	struct data d;
	bool inert;
	int64_t th;
	uint64_t t = 0;
	int err, a, b;
	char *html;
	cJSON *doc;

	session__add_process(
		s, &(struct session_process){ 1, 1, "p", "p", "", "3.12", "", 0, "", "", 0, NULL });
	th = session__add_thread(s, 0, 1, "");
	a = session__intern_frame(s, &(struct session_frame){ "f", "f.py", 1, 2, FRAME_PYTHON });
	b = session__intern_frame(s, &(struct session_frame){ "f", "f.py", 1, 3, FRAME_PYTHON });
	add_n(s, th, session__intern_stack(s, 0, a), 3, W, &t);
	add_n(s, th, session__intern_stack(s, 0, b), 2, W, &t);
	html = render(&render_html, s, &o, &err);
	doc = data_of(html, &inert);
	CHECK(doc != NULL);
	if (doc) {
		data_init(&d, doc);
		CHECK_INT(d.nframes, 1);
		CHECK_INT(int_at(d.frames, 2), 1); /* the first line */
		CHECK_INT(thread_weight(&d, 0, "f"), 5);
	}
	cJSON_Delete(doc);
	free(html);
	o.granularity = GRANULARITY_LINE;
	html = render(&render_html, s, &o, &err);
	doc = data_of(html, &inert);
	CHECK(doc != NULL);
	if (doc) {
		data_init(&d, doc);
		CHECK_INT(d.nframes, 2);
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "meta"),
								   "granularity")),
			  "line");
	}
	cJSON_Delete(doc);
	free(html);
	session__free(s);
}

/* Renders @s with default options into *@html; returns its data, checked inert, or NULL. */
static cJSON *render_data(struct session *s, char **html)
{
	bool inert = false;
	cJSON *doc;
	int err;

	*html = render(&render_html, s, NULL, &err);
	CHECK_INT(err, 0);
	doc = *html ? data_of(*html, &inert) : NULL;
	CHECK(doc != NULL);
	CHECK(inert);
	return doc;
}

/* A session of one process and no thread yet. */
static struct session *one_process_session(uint64_t duration_ns, uint32_t rate_hz, const char *mode)
{
	struct session *s = session__new();

	session__set_meta(s, &(struct session_meta){ .duration_ns = duration_ns,
						     .rate_hz = rate_hz,
						     .mode = mode,
						     .target = "t" });
	session__add_process(
		s, &(struct session_process){ 1, 1, "p", "p", "", "3.12", "", 0, "", "", 0, NULL });
	return s;
}

/* Buckets: at most 2000, covering every sample, each stack once per bucket. */
static void test_buckets(void)
{
	struct session *s = one_process_session(60000000000ULL, 999, "cpu");
	struct data d;
	int64_t th;
	uint32_t st[3];
	char *html;
	cJSON *doc, *meta, *b;
	int i, n, groups = 0, maxb = 0, bucket = 0;
	long long sum = 0;

	th = session__add_thread(s, 0, 1, "");
	for (i = 0; i < 3; i++) {
		char name[8];
		struct session_frame f = { name, "f.py", 1, 1, FRAME_PYTHON };

		snprintf(name, sizeof(name), "f%d", i);
		st[i] = session__intern_stack(s, 0, session__intern_frame(s, &f));
	}
	/* 60 s at 999 Hz, in an order that is not time order */
	for (i = 0; i < 59940; i++) {
		uint64_t k = (uint64_t)i * 7919 % 59940;

		session__add_sample(s, &(struct session_sample){ k * W, W, th, st[k % 3] });
	}
	doc = render_data(s, &html);
	if (!doc)
		goto out;
	data_init(&d, doc);
	meta = cJSON_GetObjectItem(doc, "meta");
	n = cJSON_GetNumberValue(cJSON_GetObjectItem(meta, "nbuckets"));
	CHECK_INT(n, 2000);
	CHECK((double)cJSON_GetNumberValue(cJSON_GetObjectItem(meta, "bucket_ns")) * n >=
	      cJSON_GetNumberValue(cJSON_GetObjectItem(meta, "span_ns")));
	b = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "threads"), 0),
				"buckets");
	for (i = 0; i < cJSON_GetArraySize(b);) {
		int m = int_at(b, i + 1), k;

		bucket += int_at(b, i);
		if (bucket > maxb)
			maxb = bucket;
		CHECK(groups == 0 || int_at(b, i) > 0); /* buckets ascend */
		CHECK(m >= 1 && m <= 3);
		for (k = 0; k < m; k++)
			sum += int_at(b, i + 3 + 2 * k);
		i += 2 + 2 * m;
		groups++;
	}
	CHECK_INT(sum, 59940);
	CHECK_INT(groups, 2000);
	CHECK(maxb < n);
	cJSON_Delete(doc);
out:
	free(html);
	session__free(s);
}

/* A thread's weight (in units) per bucket, from its entries: @per must hold @n buckets. */
static void bucket_weights(cJSON *doc, int th, long long *per, int n)
{
	cJSON *thread = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "threads"), th);
	cJSON *b = cJSON_GetObjectItem(thread, "buckets");
	int i = 0, bucket = 0, size = cJSON_GetArraySize(b);

	memset(per, 0, n * sizeof(*per));
	while (i < size) {
		int m = int_at(b, i + 1), k;

		bucket += int_at(b, i);
		CHECK(bucket >= 0 && bucket < n);
		for (k = 0; k < m; k++)
			if (bucket >= 0 && bucket < n)
				per[bucket] += int_at(b, i + 3 + 2 * k);
		i += 2 + 2 * m;
	}
}

static int meta_int(cJSON *doc, const char *key)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "meta"), key));
}

/* A 10 s wall-mode session at 1000 Hz (2000 buckets of 5 ms) with one process. */
static struct session *wait_session(void)
{
	return one_process_session(10000000000ULL, 1000, "wall");
}

static uint32_t main_stack(struct session *s)
{
	static const struct session_frame main_f = { "main", "m.py", 1, 2, FRAME_PYTHON };

	return session__intern_stack(s, 0, session__intern_frame(s, &main_f));
}

/* main, then the wait marker @reason. */
static uint32_t wait_stack(struct session *s, const char *reason)
{
	struct session_frame wait_f = { reason, "", 0, 0, FRAME_WAIT };

	return session__intern_stack(s, main_stack(s), session__intern_frame(s, &wait_f));
}

/*
 * A wait is spread over the buckets its interval covers, in proportion, adding up to its
 * weight; an on-CPU sample stays in the bucket of its time; a wait that runs past the end of
 * the recording (a session file may say 2^64 - 1) stops there.
 */
static void test_waits(void)
{
	struct session *s = wait_session();
	int64_t th = session__add_thread(s, 0, 1, "");
	int64_t th2 = session__add_thread(s, 0, 2, "");
	uint32_t sleep = wait_stack(s, "[sleep]"), cpu = main_stack(s);
	static long long per[2000];
	long long sum = 0;
	char *html;
	cJSON *doc;
	int b;

	/* 1 ms units: on CPU at 1.0 s, asleep from 1.0025 s for 0.5 s, on CPU at 1.503 s */
	session__add_sample(s, &(struct session_sample){ 1000000000ULL, 1000000, th, cpu });
	session__add_sample(s, &(struct session_sample){ 1002500000ULL, 500000000, th, sleep });
	session__add_sample(s, &(struct session_sample){ 1503000000ULL, 1000000, th, cpu });
	/* hostile: a wait of 2^64 - 1 ms from 9 s */
	session__add_sample(s, &(struct session_sample){
				       9000000000ULL, UINT64_MAX / 1000000 * 1000000, th2, sleep });
	doc = render_data(s, &html);
	if (!doc)
		goto out;
	CHECK_INT(meta_int(doc, "nbuckets"), 2000);
	CHECK_INT(meta_int(doc, "bucket_ns"), 5000000);
	/* the wait starts and ends half-way through a bucket: pieces of whole 0.5 ms units */
	CHECK_INT(meta_int(doc, "unit_ns"), 500000);
	bucket_weights(doc, 0, per, 2000);
	CHECK_INT(per[199], 0);
	/* bucket 200 [1.000, 1.005): the CPU sample (1 ms) and the wait's first 2.5 ms */
	CHECK_INT(per[200], 2 + 5);
	for (b = 201; b < 300; b++)
		if (per[b] != 10)
			break;
	CHECK_INT(b, 300);
	/* bucket 300 [1.500, 1.505): the wait's last 2.5 ms and the CPU sample */
	CHECK_INT(per[300], 5 + 2);
	CHECK_INT(per[301], 0);
	for (b = 0; b < 2000; b++)
		sum += per[b];
	CHECK_INT(sum, 2 + 1000 + 2);
	/* the hostile wait: from 9 s to the end, in each bucket */
	bucket_weights(doc, 1, per, 2000);
	CHECK_INT(per[1799], 0);
	for (b = 1800; b < 2000; b++)
		if (!per[b])
			break;
	CHECK_INT(b, 2000);
	cJSON_Delete(doc);
out:
	free(html);
	session__free(s);
}

/* The report's meta.nbuckets, read from the page without parsing the (big) data. */
static long rendered_nbuckets(struct session *s)
{
	char *html, *at;
	long n = -1;
	int err;

	html = render(&render_html, s, NULL, &err);
	CHECK_INT(err, 0);
	at = html ? strstr(html, "\"nbuckets\":") : NULL;
	if (at)
		n = strtol(at + strlen("\"nbuckets\":"), NULL, 10);
	free(html);
	return n;
}

/*
 * A wait makes an entry in each bucket it covers: 1500 threads asleep the whole recording
 * (3 M entries at 2000 buckets) pass ENTRY_BUDGET, so the buckets halve; 6000 waits over the
 * whole recording on one thread (12 M pieces, 2000 entries) pass the work budget, so they halve.
 */
static void test_wait_budget(void)
{
	struct session *s = wait_session(), *s2 = wait_session();
	int i;

	for (i = 0; i < 1500; i++) {
		char reason[16];
		int64_t th = session__add_thread(s, 0, 10 + i, "");

		snprintf(reason, sizeof(reason), "[wait %d]", i);
		session__add_sample(s, &(struct session_sample){ 0, 10000000000ULL, th,
								 wait_stack(s, reason) });
	}
	CHECK_INT(rendered_nbuckets(s), 1000);
	session__add_thread(s2, 0, 1, "");
	for (i = 0; i < 6000; i++)
		session__add_sample(s2, &(struct session_sample){ i, 10000000000ULL, 0,
								  wait_stack(s2, "[sleep]") });
	CHECK_INT(rendered_nbuckets(s2), 1000);
	session__free(s);
	session__free(s2);
}

static void test_empty(void)
{
	struct session *s = session__new();
	bool inert;
	char *html;
	cJSON *doc;
	int err;

	html = render(&render_html, s, NULL, &err);
	CHECK_INT(err, 0);
	doc = data_of(html, &inert);
	CHECK(doc != NULL);
	CHECK(inert);
	cJSON_Delete(doc);
	free(html);
	CHECK_INT(render_html.render(NULL, NULL, stdout), -EINVAL);
	session__free(s);
}

/*
 * A 10-minute host-wide recording: 1.2 M samples over 200 threads of 20 processes, ~50k
 * distinct stacks of depth 10-40 over 5000 functions; written to PYFLARE_HTML_BIG_OUT.
 */
static void test_big(void)
{
	const char *path = getenv("PYFLARE_HTML_BIG_OUT");
	struct session *s;
	struct frame_filter *filter;
	struct render_opts o = render_opts_default;
	uint32_t *leaves;
	uint64_t rnd = 42;
	struct timespec a, b;
	int64_t th[200];
	size_t nstacks;
	FILE *out;
	int i, err;

	if (!path)
		return;
	s = session__new();
	filter = frame_filter__new();
	session__set_meta(s, &(struct session_meta){ .start_realtime_ns = 1700000000000000000ULL,
						     .duration_ns = 600000000000ULL,
						     .rate_hz = 99,
						     .ncpus = 20,
						     .mode = "cpu",
						     .target = "-a" });
	for (i = 0; i < 20; i++) {
		char comm[32], cmd[64];

		snprintf(comm, sizeof(comm), "python3.%d", 8 + i % 5);
		snprintf(cmd, sizeof(cmd), "python3 service_%d.py --port %d", i, 8000 + i);
		session__add_process(s, &(struct session_process){ 10000 + i, i, comm, cmd,
								   "/usr/bin/python3", "3.12.1",
								   "/usr/lib/python3.12", 0, "", "",
								   0, NULL });
	}
	for (i = 0; i < 200; i++) {
		char name[32];

		snprintf(name, sizeof(name), i % 10 ? "worker-%d" : "MainThread", i % 10);
		th[i] = session__add_thread(s, i / 10, 10000 + i, name);
	}
	for (i = 0; i < 5000; i++) {
		char name[64], file[96];

		snprintf(name, sizeof(name), "Module%d.function_%d", i / 50, i);
		if (i % 4 == 0)
			snprintf(file, sizeof(file), "/usr/lib/python3.12/lib%d/mod%d.py", i % 40,
				 i);
		else
			snprintf(file, sizeof(file), "/srv/app/pkg%d/module_%d.py", i % 97, i / 50);
		session__intern_frame(
			s, &(struct session_frame){ name, file, i, i + 3, FRAME_PYTHON });
	}
	/* Stacks share prefixes like real ones do: each extends a random earlier stack. */
	leaves = malloc(50000 * sizeof(*leaves));
	for (i = 0; i < 50000; i++) {
		uint32_t node = 0;
		int depth, k;

		rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
		if (i >= 100 && (rnd >> 33) % 4) {
			node = leaves[(rnd >> 40) % i];
			depth = 1 + (rnd >> 20) % 4;
		} else {
			depth = 10 + (rnd >> 20) % 30;
		}
		for (k = 0; k < depth; k++) {
			rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
			node = session__intern_stack(s, node, (rnd >> 33) % 5000);
		}
		leaves[i] = node;
	}
	session__stacks(s, &nstacks);
	for (i = 0; i < 1200000; i++) {
		uint32_t t = i % 200;
		uint64_t when = (uint64_t)(i / 200) * 100000000ULL + t * 1000;

		rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
		/* each thread keeps to a few hundred stacks, as a real thread does */
		session__add_sample(s, &(struct session_sample){
					       when, 10101010ULL, th[t],
					       leaves[(t * 977 + (rnd >> 33) % 400) % 50000] });
	}
	o.filter = filter;
	out = fopen(path, "w");
	CHECK(out != NULL);
	clock_gettime(CLOCK_MONOTONIC, &a);
	err = out ? render_html.render(s, &o, out) : -1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK_INT(err, 0);
	if (out) {
		fprintf(stderr,
			"big session: 1200000 samples, %zu stack nodes, %ld bytes, "
			"rendered in %.2f s\n",
			nstacks, ftell(out), (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
		fclose(out);
	}
	free(leaves);
	frame_filter__free(filter);
	session__free(s);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	RUN(test_registry);
	RUN(test_hostile);
	RUN(test_values);
	RUN(test_groups);
	RUN(test_granularity);
	RUN(test_buckets);
	RUN(test_waits);
	RUN(test_wait_budget);
	RUN(test_empty);
	RUN(test_big);
	return test_summary();
}
