/* SPDX-License-Identifier: MIT */
/* test_render.c — the renderers on fixed sessions: trees, folding, pruning, escaping, JSON. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "render/frame_filter.h"
#include "fixture.h"
#include "render/render.h"
#include "render/render_tree.h"
#include "render/render_util.h"
#include "test.h"

/* Frame indices of the fixture, in interning order. */
enum { F_MOD, F_MAIN25, F_MAIN27, F_WORK, F_IDLE, F_TRUNC, F_EVIL, F_BAD, F_ESC, NF };

static const struct session_frame fixture_frames[NF] = {
	[F_MOD] = FX_MOD,
	[F_MAIN25] = FX_MAIN25,
	[F_MAIN27] = FX_MAIN27,
	[F_WORK] = FX_WORK,
	[F_IDLE] = { "Thread.idle", "/usr/lib/python3.12/threading.py", 100, 101, FRAME_PYTHON },
	[F_TRUNC] = FX_TRUNC,
	[F_EVIL] = { "a;b\nc", "/tmp/x;y.py", 5, 6, FRAME_PYTHON },
	[F_BAD] = FX_BAD,
	[F_ESC] = { "\x1b[31mred\x1b[0m", "<img src=x onerror=alert(1)>", 1, 2, FRAME_PYTHON },
};

/*
 * Process 4242 python3: MainThread 408 samples under <module> -> main (lines 25 and 27), 303
 * of them in work; worker 202 samples, 200 idle and 2 under a truncation marker. Process 5000
 * with a hostile name: 50 + 10 samples in hostile frames. Process 6000 has no samples.
 * The worker thread is created first, and MainThread's samples are added newest first.
 */
static const struct fixture_spec fixture_spec = {
	.target = "python3 app.py",
	.health = { 687, 3, 2, 1, 4, 9, 5, 3, 1 },
	.refused_comm = "python3.15",
	.refused_reason = "unsupported Python 3.15",
	.lib_dirs = "/usr/lib/python3.12",
	.evil_comm = "\x1b[31mevil",
	.evil_cmdline = "<img src=x onerror=alert(1)>",
	.evil_thread = "",
	.worker_first = true,
	.frames = fixture_frames,
	.nframes = NF,
};

static struct session *fixture(void)
{
	static const int sa[] = { F_MOD, F_MAIN25, F_WORK }, sb[] = { F_MOD, F_MAIN27 };
	static const int sc[] = { F_MOD, F_MAIN25 }, sd[] = { F_MOD, F_MAIN27, F_WORK };
	static const int si[] = { F_IDLE }, st[] = { F_TRUNC, F_WORK };
	static const int se[] = { F_ESC, F_EVIL }, sx[] = { F_BAD };
	struct fixture_threads th;
	struct session *s = fixture_session(&fixture_spec, &th);
	uint32_t a, b, c, d, idle, trunc, evil, bad;
	uint64_t t;
	int i;

	a = stack_of(s, sa, 3);
	b = stack_of(s, sb, 2);
	c = stack_of(s, sc, 2);
	d = stack_of(s, sd, 3);
	idle = stack_of(s, si, 1);
	trunc = stack_of(s, st, 2);
	evil = stack_of(s, se, 2);
	bad = stack_of(s, sx, 1);

	/* MainThread, in time: 300 a, 100 b, 5 c, 3 d from t = 1000 ns; added backwards. */
	for (i = 407; i >= 0; i--) {
		uint32_t stk = i < 300 ? a : i < 400 ? b : i < 405 ? c : d;

		session__add_sample(s, &(struct session_sample){ 1000 + i * W, W, th.mainth, stk });
	}
	t = 500000000;
	add_n(s, th.worker, idle, 200, W, &t);
	add_n(s, th.worker, trunc, 2, W, &t);
	t = 0;
	add_n(s, th.hostile, evil, 50, W, &t);
	add_n(s, th.hostile, bad, 10, W, &t);
	return s;
}

/* No control character other than newline: nothing a terminal would act on. */
static bool terminal_safe(const char *str)
{
	for (; *str; str++)
		if (((unsigned char)*str < 0x20 && *str != '\n') || *str == 0x7f)
			return false;
	return true;
}

static void test_registry(void)
{
	char names[256];

	CHECK(renderer_by_name("text") == &render_text);
	CHECK(renderer_by_name("speedscope") == &render_speedscope);
	CHECK(renderer_by_name("collapsed") == &render_collapsed);
	CHECK(renderer_by_name(NULL) == NULL);
	CHECK(renderer_by_path("out/p.speedscope.json") == &render_speedscope);
	CHECK(renderer_by_path("P.SPEEDSCOPE.JSON") == &render_speedscope);
	CHECK(renderer_by_path("p.collapsed") == &render_collapsed);
	CHECK(renderer_by_path("p.folded") == &render_collapsed);
	CHECK(renderer_by_path("p.txt") == &render_text);
	CHECK(renderer_by_path("profile") == &render_text);
	CHECK(renderer_by_path("dir.d/profile") == &render_text);
	CHECK(renderer_by_path(".profile") == &render_text);
	CHECK(renderer_by_path("") == NULL);
	CHECK(renderer_by_name("flat") == &render_flat);
	renderer_names(names, sizeof(names));
	CHECK(strncmp(names, "text, speedscope, collapsed, flat", 33) == 0);
	renderer_names(names, 8);
	CHECK_STR(names, "text");
}

static char *capture_safe(const char *str, const char *also)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	render_put_safe(f, str, also);
	fclose(f);
	return buf;
}

static char *capture_json(const char *str)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	render_put_json_string(f, str);
	fclose(f);
	return buf;
}

static char *capture_seconds(uint64_t ns)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	render_put_seconds(f, ns);
	fclose(f);
	return buf;
}

#define CHECK_CAPTURE(expr, want)      \
	do {                           \
		char *got_ = (expr);   \
		CHECK_STR(got_, want); \
		free(got_);            \
	} while (0)

static void test_escaping(void)
{
	CHECK_CAPTURE(capture_safe("plain <img src=x> é", NULL), "plain <img src=x> é");
	CHECK_CAPTURE(capture_safe("\x1b[31mred\x1b[0m", NULL), "\\x1b[31mred\\x1b[0m");
	CHECK_CAPTURE(capture_safe("a;b\nc\t\x7f", ";"), "a\\x3bb\\x0ac\\x09\\x7f");
	CHECK_CAPTURE(capture_safe("a;b", NULL), "a;b");
	/* Invalid UTF-8: a lone byte, a cut sequence, an overlong, a surrogate. */
	CHECK_CAPTURE(capture_safe("caf\xe9\xff", NULL), "caf\\xe9\\xff");
	CHECK_CAPTURE(capture_safe("\xc3\x28", NULL), "\\xc3(");
	CHECK_CAPTURE(capture_safe("\xc0\xaf", NULL), "\\xc0\\xaf");
	CHECK_CAPTURE(capture_safe("\xed\xa0\x80", NULL), "\\xed\\xa0\\x80");
	CHECK_CAPTURE(capture_safe("\xe2\x82", NULL), "\\xe2\\x82");
	/* C1 CSI, right-to-left override, line separator. */
	CHECK_CAPTURE(capture_safe("x\xc2\x9b"
				   "1m",
				   NULL),
		      "x\\u009b1m");
	CHECK_CAPTURE(capture_safe("\xe2\x80\xae"
				   "evil",
				   NULL),
		      "\\u202eevil");
	CHECK_CAPTURE(capture_safe("\xe2\x80\xa8", NULL), "\\u2028");
	CHECK_CAPTURE(capture_safe("\xf0\x9f\x94\xa5", NULL), "\xf0\x9f\x94\xa5");
	CHECK_CAPTURE(capture_safe(NULL, NULL), "");

	CHECK_CAPTURE(capture_json("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
	CHECK_CAPTURE(capture_json("caf\xe9!"), "\"caf\\ufffd!\"");
	CHECK_CAPTURE(capture_json("<é>\xe2\x80\xa8"), "\"<é>\\u2028\"");
	CHECK_CAPTURE(capture_json(NULL), "\"\"");

	CHECK_CAPTURE(capture_seconds(0), "0");
	CHECK_CAPTURE(capture_seconds(1001001), "0.001001001");
	CHECK_CAPTURE(capture_seconds(300300300), "0.3003003");
	CHECK_CAPTURE(capture_seconds(2000000000), "2");
	CHECK_CAPTURE(capture_seconds(12500000000ULL), "12.5");
}

static const struct session_frame *ff(const struct render_tree *t, uint32_t node)
{
	return &t->stacks.frames.frames[t->nodes[node].ref];
}

/* The @i-th child of @node, or the root (0) when there is none, so a broken tree fails checks. */
static uint32_t child(const struct render_tree *t, uint32_t node, uint32_t i)
{
	if (i >= t->nodes[node].nchildren) {
		CHECK(i < t->nodes[node].nchildren);
		return 0;
	}
	return t->children[t->nodes[node].first_child + i];
}

static void test_fold_frames(void)
{
	struct session *s = fixture();
	struct render_frames rf;

	CHECK_INT(render_frames__fold(&rf, s, GRANULARITY_FUNCTION), 0);
	CHECK_INT(rf.n, NF - 1);
	CHECK_INT(rf.map[F_MAIN25], rf.map[F_MAIN27]);
	CHECK_INT(rf.map[F_MAIN25], 1);
	CHECK_INT(rf.map[F_WORK], 2);
	CHECK_INT(rf.map[F_ESC], NF - 2);
	CHECK_STR(rf.frames[1].name, "main");
	CHECK_INT(rf.frames[1].line, 20);
	CHECK_INT(rf.frames[rf.map[F_WORK]].line, 40);
	CHECK_INT(rf.frames[rf.map[F_TRUNC]].kind, FRAME_TRUNCATED);
	render_frames__release(&rf);

	CHECK_INT(render_frames__fold(&rf, s, GRANULARITY_LINE), 0);
	CHECK_INT(rf.n, NF);
	CHECK(rf.map[F_MAIN25] != rf.map[F_MAIN27]);
	CHECK_INT(rf.frames[rf.map[F_MAIN27]].line, 27);
	CHECK_INT(rf.frames[rf.map[F_WORK]].line, 42);
	render_frames__release(&rf);
	render_frames__release(NULL);
	session__free(s);
}

static void test_tree(void)
{
	struct session *s = fixture();
	struct render_tree t;
	uint32_t root = 0, pa, pb, mt, wk, mod, mainf, main27;

	CHECK_INT(render_tree__build(&t, s, GRANULARITY_FUNCTION, RENDER_THREADS_AUTO), 0);
	CHECK_INT(t.nprocesses_sampled, 2);
	CHECK_INT(t.nodes[root].samples, 670);
	CHECK_INT(t.nodes[root].total_ns, 670 * W);
	CHECK_INT(t.nodes[root].nchildren, 2);
	CHECK_INT(t.process_node[2], 0);
	pa = child(&t, root, 0);
	pb = child(&t, root, 1);
	CHECK_INT(t.nodes[pa].kind, RENDER_NODE_PROCESS);
	CHECK_INT(t.nodes[pa].ref, 0);
	CHECK_INT(t.nodes[pa].total_ns, 610 * W);
	CHECK_INT(t.nodes[pb].ref, 1);
	CHECK_INT(t.nodes[pb].total_ns, 60 * W);
	CHECK_INT(t.process_node[0], pa);

	/* Two sampled threads: a thread level, MainThread (more time) first. */
	CHECK_INT(t.nodes[pa].nchildren, 2);
	mt = child(&t, pa, 0);
	wk = child(&t, pa, 1);
	CHECK_INT(t.nodes[mt].kind, RENDER_NODE_THREAD);
	CHECK_INT(t.nodes[mt].ref, 1);
	CHECK_INT(t.nodes[mt].total_ns, 408 * W);
	CHECK_INT(t.nodes[wk].ref, 0);
	CHECK_INT(t.nodes[wk].samples, 202);
	CHECK_INT(t.thread_node[1], mt);
	CHECK_INT(t.thread_node[2], 0);

	CHECK_INT(t.nodes[mt].nchildren, 1);
	mod = child(&t, mt, 0);
	CHECK_STR(ff(&t, mod)->name, "<module>");
	CHECK_INT(t.nodes[mod].total_ns, 408 * W);
	CHECK_INT(t.nodes[mod].self_ns, 0);
	CHECK_INT(t.nodes[mod].nchildren, 1);
	mainf = child(&t, mod, 0);
	CHECK_STR(ff(&t, mainf)->name, "main");
	CHECK_INT(t.nodes[mainf].self_ns, 105 * W);
	CHECK_INT(t.nodes[mainf].nchildren, 1);
	CHECK_INT(t.nodes[child(&t, mainf, 0)].total_ns, 303 * W);
	CHECK_INT(t.nodes[child(&t, mainf, 0)].parent, mainf);

	/* Worker: idle (200) before the truncated branch (2). */
	CHECK_INT(t.nodes[wk].nchildren, 2);
	CHECK_STR(ff(&t, child(&t, wk, 0))->name, "Thread.idle");
	CHECK_STR(ff(&t, child(&t, wk, 1))->name, "<truncated>");
	CHECK_INT(t.nodes[child(&t, wk, 1)].total_ns, 2 * W);

	/* One thread in process 5000: frames right under the process. */
	CHECK_INT(t.nodes[pb].nchildren, 2);
	CHECK_INT(t.nodes[child(&t, pb, 0)].kind, RENDER_NODE_FRAME);
	CHECK_INT(t.nodes[child(&t, pb, 0)].total_ns, 50 * W);
	render_tree__release(&t);

	/* Line granularity splits main by line; MERGE drops the thread level. */
	CHECK_INT(render_tree__build(&t, s, GRANULARITY_LINE, RENDER_THREADS_MERGE), 0);
	pa = child(&t, root, 0);
	CHECK_INT(t.nodes[pa].nchildren, 3);
	mod = child(&t, pa, 0);
	CHECK_STR(ff(&t, mod)->name, "<module>");
	CHECK_INT(t.nodes[mod].nchildren, 2);
	mainf = child(&t, mod, 0);
	main27 = child(&t, mod, 1);
	CHECK_INT(ff(&t, mainf)->line, 25);
	CHECK_INT(t.nodes[mainf].total_ns, 305 * W);
	CHECK_INT(ff(&t, main27)->line, 27);
	CHECK_INT(t.nodes[main27].total_ns, 103 * W);
	CHECK_INT(t.nodes[main27].self_ns, 100 * W);
	CHECK_INT(t.thread_node[1], 0);
	render_tree__release(&t);

	/* SPLIT gives process 5000 its one thread level too. */
	CHECK_INT(render_tree__build(&t, s, GRANULARITY_FUNCTION, RENDER_THREADS_SPLIT), 0);
	CHECK_INT(t.nodes[child(&t, child(&t, root, 0), 0)].kind, RENDER_NODE_THREAD);
	CHECK_INT(t.nodes[child(&t, child(&t, root, 1), 0)].kind, RENDER_NODE_THREAD);
	render_tree__release(&t);
	render_tree__release(NULL);
	session__free(s);
}

static const char fixture_text[] =
	"pyflare " PYFLARE_VERSION "\n"
	"  Recorded: 2023-11-14 22:13:20 UTC    Samples:  670\n"
	"  Duration: 2.000 s                    CPU time: 0.671 s\n"
	"  Target:   python3 app.py\n"
	"  Mode:     cpu, 999 Hz timer on 2 CPUs\n"
	"  Health:   687 samples taken = 670 shown + 3 lost + 9 no thread state + 5 no Python "
	"frame\n"
	"            (lost: ring buffer full; no thread state: process start or exit, or a thread "
	"that runs no Python; no Python frame: the interpreter in C: start-up, compiling the "
	"script, exit)\n"
	"            2 stacks truncated, 1 cut short by a failed read, 4 frames not symbolized "
	"(shown as <unsymbolized code 0x...>)\n"
	"  Processes: 3 attached, 1 refused\n"
	"  Refused:  7000 python3.15: unsupported Python 3.15\n"
	"\n"
	"Process 4242 python3 — python3 app.py — Python 3.12.1\n"
	"  Samples: 610   CPU time: 0.611 s   Threads: 2\n"
	"\n"
	"0.408 Thread 4242 MainThread\n"
	"└─ 0.408 <module>  app.py:1\n"
	"   └─ 0.408 main  app.py:20\n"
	"      └─ 0.303 work  app.py:40\n"
	"0.202 Thread 4243 worker\n"
	"└─ 0.200 Thread.idle  threading.py:100\n"
	"\n"
	"Process 5000 \\x1b[31mevil — <img src=x onerror=alert(1)> — Python 3.11.4\n"
	"  Samples: 60   CPU time: 0.060 s\n"
	"\n"
	"0.050 \\x1b[31mred\\x1b[0m  <img src=x onerror=alert(1)>:1\n"
	"└─ 0.050 a;b\\x0ac  /tmp/x;y.py:5\n"
	"0.010 caf\\xe9\\xff  /tmp/\\xc3(.py:7\n"
	"\n"
	"No samples from: 6000 idle\n";

static void test_text(void)
{
	struct session *s = fixture();
	struct render_opts o = render_opts_default;
	char *out;
	int err;

	out = render(&render_text, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK_STR(out, fixture_text);
	CHECK(terminal_safe(out));
	CHECK(valid_utf8(out));
	free(out);

	/* No pruning: the truncated branch (0.3%) shows, as does its child. */
	o.prune_share = 0;
	o.unicode = false;
	out = render(&render_text, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK(strstr(out, "0.202 Thread 4243 worker\n"
			  "|- 0.200 Thread.idle  threading.py:100\n"
			  "`- 0.002 <truncated>\n"
			  "   `- 0.002 work  app.py:40\n") != NULL);
	CHECK(strstr(out, "Process 4242 python3 - python3 app.py - Python 3.12.1\n") != NULL);
	CHECK(strstr(out, "\xe2\x94") == NULL);
	free(out);

	/* Its namespace PID and container; a bare cgroup when there is no container */
	o.unicode = true;
	CHECK_INT(session__set_process_identity(
			  s, 0, 12,
			  "/system.slice/docker-3f9c2a1b4d5e"
			  "6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8.scope",
			  "3f9c2a1b4d5e"),
		  0);
	CHECK_INT(session__set_process_identity(s, 1, 0, "/evil\033[2J.slice", ""), 0);
	out = render(&render_text, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK(strstr(out, "Process 4242 (12 in its namespace) python3 — container 3f9c2a1b4d5e — "
			  "python3 app.py — Python 3.12.1\n") != NULL);
	CHECK(strstr(out, " — cgroup /evil") != NULL);
	CHECK(terminal_safe(out));
	free(out);
	CHECK_INT(session__set_process_identity(s, 0, 0, "", ""), 0);
	CHECK_INT(session__set_process_identity(s, 1, 0, "", ""), 0);
	CHECK_INT(session__set_process_identity(s, 9, 0, "", ""), -EINVAL);

	/* Line granularity: main split by line; work under main:27 (0.5%) pruned at 1%. */
	o = render_opts_default;
	o.granularity = GRANULARITY_LINE;
	out = render(&render_text, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK(strstr(out, "0.408 Thread 4242 MainThread\n"
			  "└─ 0.408 <module>  app.py:10\n"
			  "   ├─ 0.305 main  app.py:25\n"
			  "   │  └─ 0.300 work  app.py:42\n"
			  "   └─ 0.103 main  app.py:27\n"
			  "0.202 Thread 4243 worker\n") != NULL);
	free(out);

	/* Pruning is relative to each process: at 50%, work (49.6%) and caf (17%) go. */
	o = render_opts_default;
	o.prune_share = 0.5;
	out = render(&render_text, s, &o, &err);
	CHECK(strstr(out, "0.408 Thread 4242 MainThread\n└─ 0.408 <module>  app.py:1\n"
			  "   └─ 0.408 main  app.py:20\n\n") != NULL);
	CHECK(strstr(out, "worker") == NULL);
	CHECK(strstr(out, "0.050 \\x1b[31mred") != NULL);
	CHECK(strstr(out, "caf") == NULL);
	free(out);

	/* What the kernel could not do shows under the mode, escaped */
	{
		struct session_meta m = *session__meta(s);

		m.kernel_notes = "wall mode is not available\033[2J (on_switch: \"R1\")";
		CHECK_INT(session__set_meta(s, &m), 0);
	}
	out = render(&render_text, s, &render_opts_default, &err);
	CHECK(strstr(out, "CPUs\n  Kernel:   wall mode is not available\\x1b[2J (on_switch: "
			  "\"R1\")\n  Health:") != NULL);
	free(out);
	session__free(s);
}

/* Removes our own colour sequences; anything left is an escape that came from a name. */
static void strip_colors(char *str)
{
	static const char *const seqs[] = { "\033[31m", "\033[33m",	 "\033[32m",
					    "\033[92m", "\033[2m",	 "\033[1m",
					    "\033[0m",	"\033[48;5;24m", "\033[38;5;15m" };
	size_t i;
	char *p;

	for (i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
		while ((p = strstr(str, seqs[i])))
			memmove(p, p + strlen(seqs[i]), strlen(p + strlen(seqs[i])) + 1);
}

static void test_text_color(void)
{
	struct session *s = fixture();
	struct render_opts o = render_opts_default;
	char *out;
	int err;

	o.color = true;
	out = render(&render_text, s, &o, &err);
	CHECK_INT(err, 0);
	/* Of process 4242: MainThread 67% red, work 49.6% and worker 33% yellow. */
	CHECK(strstr(out, "\033[31m0.408\033[0m \033[1mThread 4242 MainThread\033[0m\n") != NULL);
	/* Application code stands out (white on blue); library code does not. */
	CHECK(strstr(out, "\033[33m0.303\033[0m \033[48;5;24m\033[38;5;15mwork\033[0m  "
			  "\033[2mapp.py:40\033[0m\n") != NULL);
	CHECK(strstr(out, "\033[33m0.202\033[0m") != NULL);
	CHECK(strstr(out, "\033[33m0.200\033[0m Thread.idle  \033[2mthreading.py:100") != NULL);
	/* 0.010 of 0.060 is 17%: green. */
	CHECK(strstr(out, "\033[32m0.010\033[0m \033[48;5;24m\033[38;5;15mcaf") != NULL);
	strip_colors(out);
	CHECK(terminal_safe(out));
	CHECK_STR(out, fixture_text);
	free(out);
	session__free(s);
}

static void test_text_empty(void)
{
	struct session *s = session__new();
	char *out;
	int err;

	out = render(&render_text, s, NULL, &err);
	CHECK_INT(err, 0);
	CHECK(strstr(out, "  Recorded: unknown ") != NULL);
	CHECK(strstr(out, "  Target:   ?\n") != NULL);
	CHECK(strstr(out, "\nNo samples: no Python process was found for this target.") != NULL);
	free(out);
	CHECK_INT(render_text.render(NULL, NULL, stdout), -EINVAL);

	/* refused only, then attached but idle: each says why it is empty */
	CHECK_INT(session__add_refusal(s, 7, "python3", "unsupported Python 3.15"), 0);
	out = render(&render_text, s, NULL, &err);
	CHECK(strstr(out, "\nNo samples: no Python process could be profiled") != NULL);
	free(out);
	CHECK(session__add_process(s, &(struct session_process){ .pid = 8 }) == 0);
	out = render(&render_flat, s, NULL, &err);
	CHECK_INT(err, 0);
	CHECK(strstr(out, "\nNo samples: the 1 process profiled ran no Python code") != NULL);
	/* where to look next: what its threads are doing now, and wall mode's waits */
	CHECK(strstr(out, "`pyflare dump -p 8` shows where its threads are now; --mode wall") !=
	      NULL);
	free(out);
	CHECK_INT(session__set_meta(s, &(struct session_meta){ .mode = "wall",
							       .target = "",
							       .clock = "timer",
							       .kernel_notes = "" }),
		  0);
	out = render(&render_text, s, NULL, &err);
	CHECK(strstr(out, "\nNo samples: the 1 process profiled had no Python code on a thread's "
			  "stack, on a CPU or off it, while recording. `pyflare dump -p 8` shows "
			  "where its threads are now.\n") != NULL);
	free(out);
	session__free(s);
}

/* Byte order; no process or thread frames unless asked. */
static const char fixture_collapsed[] =
	"<module> (app.py:1);main (app.py:20) 105105\n"
	"<module> (app.py:1);main (app.py:20);work (app.py:40) 303303\n"
	"<truncated>;work (app.py:40) 2002\n"
	"Thread.idle (/usr/lib/python3.12/threading.py:100) 200200\n"
	"\\x1b[31mred\\x1b[0m (<img src=x onerror=alert(1)>:1);a\\x3bb\\x0ac (/tmp/x\\x3by.py:5) "
	"50050\n"
	"caf\\xe9\\xff (/tmp/\\xc3(.py:7) 10010\n";

static const char fixture_collapsed_roots[] =
	"process 4242 (python3);thread 4242 (MainThread);<module> (app.py:1);main (app.py:20) "
	"105105\n"
	"process 4242 (python3);thread 4242 (MainThread);<module> (app.py:1);main (app.py:20);"
	"work (app.py:40) 303303\n"
	"process 4242 (python3);thread 4243 (worker);<truncated>;work (app.py:40) 2002\n"
	"process 4242 (python3);thread 4243 (worker);Thread.idle "
	"(/usr/lib/python3.12/threading.py:100) 200200\n"
	"process 5000 (\\x1b[31mevil);thread 5000;\\x1b[31mred\\x1b[0m (<img src=x "
	"onerror=alert(1)>:1);a\\x3bb\\x0ac (/tmp/x\\x3by.py:5) 50050\n"
	"process 5000 (\\x1b[31mevil);thread 5000;caf\\xe9\\xff (/tmp/\\xc3(.py:7) 10010\n";

static void test_collapsed(void)
{
	struct session *s = fixture();
	struct render_opts o = render_opts_default;
	char *out;
	int err;

	out = render(&render_collapsed, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK_STR(out, fixture_collapsed);
	CHECK(valid_utf8(out));
	free(out);

	o.collapsed_roots = COLLAPSED_ROOT_PROCESS | COLLAPSED_ROOT_THREAD;
	out = render(&render_collapsed, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK_STR(out, fixture_collapsed_roots);
	free(out);

	/* Process frames only: the two threads of 4242 add up. */
	o.collapsed_roots = COLLAPSED_ROOT_PROCESS;
	out = render(&render_collapsed, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK(strstr(out, "process 4242 (python3);<module> (app.py:1);main (app.py:20) 105105\n"
			  "process 4242 (python3);<module> (app.py:1);main (app.py:20);work "
			  "(app.py:40) 303303\nprocess 4242 (python3);<truncated>;work (app.py:40) "
			  "2002\n") == out);
	CHECK(strstr(out, "\nprocess 5000 (\\x1b[31mevil);caf\\xe9\\xff (/tmp/\\xc3(.py:7) "
			  "10010\n") != NULL);
	free(out);

	/* Thread frames only */
	o.collapsed_roots = COLLAPSED_ROOT_THREAD;
	out = render(&render_collapsed, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK(strstr(out,
		     "thread 4242 (MainThread);<module> (app.py:1);main (app.py:20) 105105\n") ==
	      out);
	CHECK(strstr(out, "\nthread 5000;caf") != NULL);
	CHECK(strstr(out, "process") == NULL);
	free(out);

	o = render_opts_default;
	o.granularity = GRANULARITY_LINE;
	out = render(&render_collapsed, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK(strstr(out, "<module> (app.py:10);main (app.py:25) 5005\n"
			  "<module> (app.py:10);main (app.py:25);work (app.py:42) 300300\n"
			  "<module> (app.py:10);main (app.py:27) 100100\n"
			  "<module> (app.py:10);main (app.py:27);work (app.py:42) 3003\n") == out);
	free(out);
	session__free(s);
}

/* Two processes running the same code: without process frames their stacks are one line. */
static void test_collapsed_merge(void)
{
	struct session *s = session__new();
	struct render_opts o = render_opts_default;
	int64_t f, st;
	char *out;
	int err;

	session__add_process(s, &(struct session_process){ .pid = 1, .comm = "worker" });
	session__add_process(s, &(struct session_process){ .pid = 2, .comm = "worker" });
	session__add_thread(s, 0, 1, "");
	session__add_thread(s, 1, 2, "");
	f = session__intern_frame(s, &(struct session_frame){ "f", "w.py", 1, 3, FRAME_PYTHON });
	st = session__intern_stack(s, 0, f);
	session__add_sample(s, &(struct session_sample){ 0, 1000000, 0, st });
	session__add_sample(s, &(struct session_sample){ 0, 2000000, 1, st });
	out = render(&render_collapsed, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK_STR(out, "f (w.py:1) 3000\n");
	free(out);
	o.collapsed_roots = COLLAPSED_ROOT_PROCESS;
	out = render(&render_collapsed, s, &o, &err);
	CHECK_STR(out, "process 1 (worker);f (w.py:1) 1000\nprocess 2 (worker);f (w.py:1) 2000\n");
	free(out);
	session__free(s);
}

/* One process, one thread: no process or thread frames; sub-microsecond time rounds up. */
static void test_collapsed_single(void)
{
	struct session *s = session__new();
	int64_t f, g, st, st2;
	char *out;
	int err;

	session__add_process(s, &(struct session_process){ .pid = 1, .comm = "python3" });
	session__add_thread(s, 0, 1, "MainThread");
	f = session__intern_frame(s, &(struct session_frame){ "f", "a.py", 1, 3, FRAME_PYTHON });
	g = session__intern_frame(s, &(struct session_frame){ "", "", 0, 0, FRAME_UNKNOWN });
	st = session__intern_stack(s, 0, f);
	st2 = session__intern_stack(s, st, g);
	session__add_sample(s, &(struct session_sample){ 0, 1499, 0, st });
	session__add_sample(s, &(struct session_sample){ 0, 300, 0, st2 });
	out = render(&render_collapsed, s, NULL, &err);
	CHECK_INT(err, 0);
	CHECK_STR(out, "f (a.py:1) 1\nf (a.py:1);<unsymbolized code> 1\n");
	free(out);
	session__free(s);
}

/* Appends to a fixed buffer, dropping what does not fit (a long result fails its check anyway). */
static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	if (used + 1 < size)
		vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

/* "a,b,c" of a JSON array of numbers, for compact comparisons. */
static char *numbers(const cJSON *arr)
{
	static char buf[4096];
	const cJSON *v;

	buf[0] = '\0';
	cJSON_ArrayForEach(v, arr)
		append(buf, sizeof(buf), "%s%.9g", v == arr->child ? "" : ",", v->valuedouble);
	return buf;
}

/* "[a,b] [c]" of a JSON array of arrays of numbers. */
static char *stacks(const cJSON *arr)
{
	static char buf[4096];
	const cJSON *v, *x;

	buf[0] = '\0';
	cJSON_ArrayForEach(v, arr)
	{
		append(buf, sizeof(buf), "%s[", v == arr->child ? "" : " ");
		cJSON_ArrayForEach(x, v)
			append(buf, sizeof(buf), "%s%d", x == v->child ? "" : ",", x->valueint);
		append(buf, sizeof(buf), "]");
	}
	return buf;
}

static void check_profile(const cJSON *p, const char *name, const char *samples,
			  const char *weights, double start, double end)
{
	CHECK_STR(str(p, "type"), "sampled");
	CHECK_STR(str(p, "name"), name);
	CHECK_STR(str(p, "unit"), "seconds");
	CHECK_STR(stacks(item(p, "samples")), samples);
	CHECK_STR(numbers(item(p, "weights")), weights);
	CHECK(num(p, "startValue") == start);
	CHECK(num(p, "endValue") == end);
}

static void test_speedscope(void)
{
	struct session *s = fixture();
	struct render_opts o = render_opts_default;
	const cJSON *frames, *profiles, *meta, *h, *f;
	cJSON *doc;
	char *out, *env;
	int err;

	out = render(&render_speedscope, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK(valid_utf8(out));
	env = getenv("PYFLARE_SPEEDSCOPE_OUT");
	if (env && *env) {
		FILE *fo = fopen(env, "w");

		CHECK(fo != NULL);
		if (fo) {
			fputs(out, fo);
			fclose(fo);
		}
	}
	doc = cJSON_Parse(out);
	CHECK(doc != NULL);
	if (!doc) {
		free(out);
		session__free(s);
		return;
	}
	CHECK_STR(str(doc, "$schema"), "https://www.speedscope.app/file-format-schema.json");
	CHECK_STR(str(doc, "exporter"), "pyflare " PYFLARE_VERSION);
	CHECK_STR(str(doc, "name"), "python3 app.py");
	/*
	 * Profiles: process 5000 (sampled first), then 4242's main thread (tid = pid; the
	 * busiest, so the one shown first) and its worker.
	 */
	CHECK(num(doc, "activeProfileIndex") == 1);

	frames = item(item(doc, "shared"), "frames");
	CHECK_INT(cJSON_GetArraySize(frames), NF - 1);
	f = cJSON_GetArrayItem(frames, 1);
	CHECK_STR(str(f, "name"), "main");
	CHECK_STR(str(f, "file"), "app.py");
	CHECK(num(f, "line") == 20);
	CHECK(item(f, "col") == NULL);
	f = cJSON_GetArrayItem(frames, 4);
	CHECK_STR(str(f, "name"), "<truncated>");
	CHECK(item(f, "file") == NULL);
	CHECK(item(f, "line") == NULL);
	f = cJSON_GetArrayItem(frames, 5);
	CHECK_STR(str(f, "name"), "a;b\nc");
	CHECK_STR(str(f, "file"), "/tmp/x;y.py");
	f = cJSON_GetArrayItem(frames, 6);
	CHECK_STR(str(f, "name"), "caf\xef\xbf\xbd\xef\xbf\xbd");
	CHECK_STR(str(f, "file"), "/tmp/\xef\xbf\xbd(.py");
	f = cJSON_GetArrayItem(frames, 7);
	CHECK_STR(str(f, "name"), "\x1b[31mred\x1b[0m");
	CHECK_STR(str(f, "file"), "<img src=x onerror=alert(1)>");

	profiles = item(doc, "profiles");
	CHECK_INT(cJSON_GetArraySize(profiles), 3);
	check_profile(cJSON_GetArrayItem(profiles, 0), "5000 \x1b[31mevil / 5000", "[7,5] [6]",
		      "0.05005005,0.01001001", 0, 60 * W / 1e9);
	/* Function granularity: main:27 and main:25 samples fold and merge into one run. */
	check_profile(cJSON_GetArrayItem(profiles, 1), "4242 python3 / 4242 MainThread",
		      "[0,1,2] [0,1] [0,1,2]", "0.3003003,0.105105105,0.003003003", 1e-6,
		      (1000 + 408 * W) / 1e9);
	check_profile(cJSON_GetArrayItem(profiles, 2), "4242 python3 / 4243 worker", "[3] [4,2]",
		      "0.2002002,0.002002002", 0.5, (500000000 + 202 * W) / 1e9);

	meta = item(doc, "pyflare");
	CHECK_STR(str(meta, "version"), PYFLARE_VERSION);
	CHECK_STR(str(meta, "recorded_at"), "2023-11-14T22:13:20.123456789Z");
	CHECK(num(meta, "duration") == 2);
	CHECK_STR(str(meta, "mode"), "cpu");
	CHECK_STR(str(meta, "clock"), "timer");
	CHECK(num(meta, "rate_hz") == 999);
	CHECK(num(meta, "ncpus") == 2);
	CHECK_STR(str(meta, "granularity"), "function");
	h = item(meta, "health");
	CHECK(num(h, "samples") == 687);
	CHECK(num(h, "shown") == 670);
	CHECK(num(h, "lost") == 3);
	CHECK(num(h, "truncated") == 2);
	CHECK(num(h, "unreadable") == 1);
	CHECK(num(h, "unsymbolized") == 4);
	CHECK(num(h, "no_thread_state") == 9);
	CHECK(num(h, "no_python_frame") == 5);
	CHECK(num(h, "attached") == 3);
	CHECK(num(h, "refused") == 1);
	CHECK_STR(str(cJSON_GetArrayItem(item(meta, "refusals"), 0), "reason"),
		  "unsupported Python 3.15");
	CHECK_INT(cJSON_GetArraySize(item(meta, "processes")), 3);
	CHECK_STR(str(cJSON_GetArrayItem(item(meta, "processes"), 1), "cmdline"),
		  "<img src=x onerror=alert(1)>");
	cJSON_Delete(doc);
	free(out);

	/* Line granularity: no merging across lines, four runs. */
	o.granularity = GRANULARITY_LINE;
	out = render(&render_speedscope, s, &o, &err);
	CHECK_INT(err, 0);
	doc = cJSON_Parse(out);
	CHECK(doc != NULL);
	profiles = item(doc, "profiles");
	CHECK_STR(stacks(item(cJSON_GetArrayItem(profiles, 1), "samples")),
		  "[0,1,3] [0,2] [0,1] [0,2,3]");
	CHECK_STR(str(item(doc, "pyflare"), "granularity"), "line");
	CHECK(num(cJSON_GetArrayItem(item(item(doc, "shared"), "frames"), 2), "line") == 27);
	cJSON_Delete(doc);
	free(out);
	session__free(s);
}

static void test_speedscope_empty(void)
{
	struct session *s = session__new();
	cJSON *doc;
	char *out;
	int err;

	out = render(&render_speedscope, s, NULL, &err);
	CHECK_INT(err, 0);
	doc = cJSON_Parse(out);
	CHECK(doc != NULL);
	CHECK_STR(str(doc, "name"), "pyflare");
	CHECK_INT(cJSON_GetArraySize(item(doc, "profiles")), 0);
	CHECK_INT(cJSON_GetArraySize(item(item(doc, "shared"), "frames")), 0);
	cJSON_Delete(doc);
	free(out);
	session__free(s);
}

/* A 3000-deep recursion: no recursion in the renderers, every level drawn. */
static void test_deep(void)
{
	struct session *s = session__new();
	struct render_opts o = render_opts_default;
	const cJSON *smp;
	uint32_t node = 0;
	cJSON *doc;
	char *out, *want, *p;
	int64_t f;
	int i, err, semis = 0, rows = 0;

	session__add_process(s, &(struct session_process){ .pid = 1, .comm = "python3" });
	session__add_thread(s, 0, 1, "MainThread");
	f = session__intern_frame(s, &(struct session_frame){ "rec", "r.py", 1, 2, FRAME_PYTHON });
	for (i = 0; i < 3000; i++)
		node = session__intern_stack(s, node, f);
	session__add_sample(s, &(struct session_sample){ 0, 1000000, 0, node });

	out = render(&render_text, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK(strstr(out, "\n\n0.001 rec  r.py:1\n└─ 0.001 rec  r.py:1\n"
			  "   └─ 0.001 rec") != NULL);
	for (p = out; (p = strstr(p, "└─ 0.001 rec  r.py:1\n")); p++)
		rows++;
	CHECK_INT(rows, 2999);
	/* The deepest row is indented by 2998 blank levels and ends the tree. */
	want = malloc(3 * 2998 + 64);
	memset(want, ' ', 3 * 2998);
	strcpy(want + 3 * 2998, "└─ 0.001 rec  r.py:1\n\n");
	p = strstr(out, want);
	CHECK(p != NULL && p[-1] == '\n' && p[strlen(want)] == '\0');
	free(want);
	free(out);

	out = render(&render_collapsed, s, &o, &err);
	CHECK_INT(err, 0);
	for (i = 0; out[i]; i++)
		semis += out[i] == ';';
	CHECK_INT(semis, 2999);
	CHECK(strstr(out, "rec (r.py:1) 1000\n") != NULL);
	free(out);

	out = render(&render_speedscope, s, &o, &err);
	CHECK_INT(err, 0);
	doc = cJSON_ParseWithOpts(out, NULL, 0);
	CHECK(doc != NULL);
	smp = cJSON_GetArrayItem(item(cJSON_GetArrayItem(item(doc, "profiles"), 0), "samples"), 0);
	CHECK_INT(cJSON_GetArraySize(smp), 3000);
	cJSON_Delete(doc);
	free(out);
	session__free(s);
}

/* 200000 samples over 20000 distinct stacks: the aggregation's hashes grow many times. */
static void test_large(void)
{
	struct session *s = session__new();
	struct render_tree t;
	uint32_t leaves[20000];
	uint64_t sum = 0;
	int64_t fr[100];
	char name[16];
	size_t i;
	uint32_t k;

	session__add_process(s, &(struct session_process){ .pid = 1, .comm = "python3" });
	session__add_thread(s, 0, 1, "a");
	session__add_thread(s, 0, 2, "b");
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "f%zu", i);
		fr[i] = session__intern_frame(
			s, &(struct session_frame){ name, "m.py", i, i + 1, FRAME_PYTHON });
	}
	for (i = 0; i < 20000; i++) {
		uint32_t node = 0;

		/* Depth 4, digits of i in base 100 -> 20000 distinct leaves. */
		node = session__intern_stack(s, node, fr[(i / 1000000) % 100]);
		node = session__intern_stack(s, node, fr[(i / 10000) % 100]);
		node = session__intern_stack(s, node, fr[(i / 100) % 100]);
		leaves[i] = session__intern_stack(s, node, fr[i % 100]);
	}
	for (i = 0; i < 200000; i++)
		session__add_sample(s, &(struct session_sample){ i * 1000, 1000 + i % 7, i % 2,
								 leaves[(i * 7919) % 20000] });
	for (i = 0; i < 200000; i++)
		sum += 1000 + i % 7;
	CHECK_INT(render_tree__build(&t, s, GRANULARITY_FUNCTION, RENDER_THREADS_AUTO), 0);
	CHECK_INT(t.nodes[0].total_ns, sum);
	CHECK_INT(t.nodes[0].samples, 200000);
	/*
	 * Even samples (thread a) land on even leaves, odd on odd: per thread 1 + 2 + 200 +
	 * 10000 frame nodes, plus the root, the process and two threads.
	 */
	CHECK_INT(t.n, 4 + 2 * (1 + 2 + 200 + 10000));
	for (k = 1; k < t.n; k++)
		if (t.nodes[k].parent >= k)
			break;
	CHECK_INT(k, t.n);
	render_tree__release(&t);
	session__free(s);
}

/* --- views: hidden library frames, percentages, timeline, flat ---------------------------- */

/* Frames of the library fixture. */
enum {
	L_MOD,
	L_RUN,
	L_DUMPS,
	L_ENCODE,
	L_ITER,
	L_DEFAULT,
	L_COMPILE,
	L_RECOMPILE,
	L_PARSE,
	L_FIND,
	L_LOAD,
	L_EXEC,
	L_REQ,
	NL
};

static const struct session_frame lib_frames[NL] = {
	[L_MOD] = { "<module>", "/app/main.py", 1, 3, FRAME_PYTHON },
	[L_RUN] = { "run", "/app/main.py", 10, 12, FRAME_PYTHON },
	[L_DUMPS] = { "dumps", "/usr/lib/python3.12/json/__init__.py", 183, 231, FRAME_PYTHON },
	[L_ENCODE] = { "JSONEncoder.encode", "/usr/lib/python3.12/json/encoder.py", 183, 200,
		       FRAME_PYTHON },
	[L_ITER] = { "iterencode", "/usr/lib/python3.12/json/encoder.py", 205, 250, FRAME_PYTHON },
	[L_DEFAULT] = { "default", "/app/main.py", 20, 21, FRAME_PYTHON },
	[L_COMPILE] = { "compile", "/usr/lib/python3.12/re/__init__.py", 226, 228, FRAME_PYTHON },
	[L_RECOMPILE] = { "_compile", "/usr/lib/python3.12/re/__init__.py", 280, 300,
			  FRAME_PYTHON },
	[L_PARSE] = { "parse", "/usr/lib/python3.12/re/_parser.py", 970, 980, FRAME_PYTHON },
	[L_FIND] = { "_find_and_load", "<frozen importlib._bootstrap>", 1165, 1170, FRAME_PYTHON },
	[L_LOAD] = { "_load_unlocked", "<frozen importlib._bootstrap>", 900, 910, FRAME_PYTHON },
	[L_EXEC] = { "exec_module", "<frozen importlib._bootstrap_external>", 990, 995,
		     FRAME_PYTHON },
	[L_REQ] = { "<module>", "/venv/lib/python3.12/site-packages/requests/__init__.py", 1, 5,
		    FRAME_PYTHON },
};

/*
 * One process (stdlib /usr/lib/python3.12), one thread, 225 samples in time order: run calls
 * json.dumps (100 samples inside json, 50 in the user's default() json calls back, 10 in
 * dumps itself), re.compile (30), an import that runs requests (20, and 5 in importlib),
 * and 10 samples in run itself.
 */
static struct session *lib_fixture(void)
{
	static const struct {
		int n, len;
		int frames[7];
	} stacks[] = {
		{ 100, 5, { L_MOD, L_RUN, L_DUMPS, L_ENCODE, L_ITER } },
		{ 50, 6, { L_MOD, L_RUN, L_DUMPS, L_ENCODE, L_ITER, L_DEFAULT } },
		{ 30, 5, { L_MOD, L_RUN, L_COMPILE, L_RECOMPILE, L_PARSE } },
		{ 10, 3, { L_MOD, L_RUN, L_DUMPS } },
		{ 10, 2, { L_MOD, L_RUN } },
		{ 20, 6, { L_MOD, L_RUN, L_FIND, L_LOAD, L_EXEC, L_REQ } },
		{ 5, 5, { L_MOD, L_RUN, L_FIND, L_LOAD, L_EXEC } },
	};
	struct session *s = session__new();
	uint64_t t = 0;
	size_t i;

	session__set_meta(s, &(struct session_meta){ .duration_ns = 225 * W,
						     .rate_hz = 999,
						     .ncpus = 1,
						     .mode = "cpu",
						     .target = "app" });
	session__add_process(s, &(struct session_process){
					100, 1, "python3", "python3 main.py", "/usr/bin/python3.12",
					"3.12.1", "/usr/lib/python3.12", 0, "", "", 0, NULL });
	session__add_thread(s, 0, 100, "MainThread");
	for (i = 0; i < NL; i++)
		session__intern_frame(s, &lib_frames[i]);
	for (i = 0; i < sizeof(stacks) / sizeof(stacks[0]); i++)
		add_n(s, 0, stack_of(s, stacks[i].frames, stacks[i].len), stacks[i].n, W, &t);
	return s;
}

/* The call tree part of a text report: from the first row after the process header. */
static const char *tree_of(const char *text)
{
	const char *p = text ? strstr(text, "CPU time: 0.") : NULL;

	p = p ? strstr(p + 1, "CPU time: ") : NULL;
	p = p ? strstr(p, "\n\n") : NULL;
	return p ? p + 2 : "";
}

static const char lib_text[] = "0.225 <module>  /app/main.py:1\n"
			       "└─ 0.225 run  /app/main.py:10\n"
			       "   ├─ 0.160 dumps  json/__init__.py:183\n"
			       "   │  └─ 0.150 [2 frames hidden]  json\n"
			       "   │     └─ 0.050 default  /app/main.py:20\n"
			       "   ├─ 0.030 compile  re/__init__.py:226\n"
			       "   │  └─ 0.030 [2 frames hidden]  re\n"
			       "   └─ 0.025 _find_and_load  <frozen importlib._bootstrap>:1165\n"
			       "      └─ 0.025 [3 frames hidden]  importlib, requests\n"
			       "\n";

static void test_text_hidden(void)
{
	struct session *s = lib_fixture();
	struct frame_filter *f = frame_filter__new();
	struct render_opts o = render_opts_default;
	struct render_tree t;
	char *out;
	int err;

	o.filter = f;
	out = render(&render_text, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK_STR(tree_of(out), lib_text);
	free(out);

	/* The tree the html and json views share: the groups and what they hold. */
	CHECK_INT(render_tree__build_view(&t, s, &o, RENDER_THREADS_AUTO), 0);
	CHECK_INT(t.ngroups, 3);
	if (t.ngroups == 3) {
		CHECK_INT(t.groups[0].nframes, 2);
		CHECK_STR(t.groups[0].libs, "json");
		CHECK_INT(t.nodes[t.groups[0].node].kind, RENDER_NODE_GROUP);
		CHECK_INT(t.nodes[t.groups[0].node].self_ns, 100 * W);
		CHECK_INT(t.nodes[t.groups[0].node].total_ns, 150 * W);
		CHECK_STR(ff(&t, t.nodes[t.groups[0].node].parent)->name, "dumps");
		CHECK_INT(t.nodes[t.groups[0].node].nchildren, 1);
		CHECK_STR(ff(&t, child(&t, t.groups[0].node, 0))->name, "default");
		CHECK_STR(t.groups[2].libs, "importlib, requests");
		CHECK_INT(t.groups[2].nframes, 3);
	}
	render_tree__release(&t);

	/* A --show pattern wins over the library default and over --hide */
	CHECK_INT(frame_filter__add(f, FILTER_HIDE_GLOB, "*/json/*", NULL, 0), 0);
	CHECK_INT(frame_filter__add(f, FILTER_SHOW_GLOB, "*/json/encoder.py", NULL, 0), 0);
	out = render(&render_text, s, &o, &err);
	CHECK(strstr(tree_of(out), "   ├─ 0.160 dumps  json/__init__.py:183\n"
				   "   │  └─ 0.150 JSONEncoder.encode  json/encoder.py:183\n"
				   "   │     └─ 0.150 iterencode  json/encoder.py:205\n"
				   "   │        └─ 0.050 default  /app/main.py:20\n") != NULL);
	CHECK(strstr(out, "json\n") == NULL);
	free(out);
	frame_filter__free(f);

	/* Hiding the program's own code: one group under the outermost frame. */
	f = frame_filter__new();
	o.filter = f;
	CHECK_INT(frame_filter__add(f, FILTER_HIDE_REGEX, "^/app/", NULL, 0), 0);
	out = render(&render_text, s, &o, &err);
	CHECK_STR(tree_of(out), "0.225 <module>  /app/main.py:1\n"
				"└─ 0.225 [12 frames hidden]  main, json, re, importlib, requests\n"
				"\n");
	free(out);

	/* --show-all: every frame, as without a filter */
	frame_filter__show_all(f);
	out = render(&render_text, s, &o, &err);
	CHECK(strstr(out, "hidden") == NULL);
	CHECK(strstr(tree_of(out), "   │  └─ 0.150 JSONEncoder.encode") != NULL);
	free(out);
	frame_filter__free(f);
	session__free(s);
}

static void test_text_percent(void)
{
	struct session *s = lib_fixture();
	struct frame_filter *f = frame_filter__new();
	struct render_opts o = render_opts_default;
	char *out;
	int err;

	o.filter = f;
	o.percent = true;
	o.unicode = false;
	out = render(&render_text, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK_STR(tree_of(out), "100.0% <module>  /app/main.py:1\n"
				"`- 100.0% run  /app/main.py:10\n"
				"   |- 71.1% dumps  json/__init__.py:183\n"
				"   |  `- 66.7% [2 frames hidden]  json\n"
				"   |     `- 22.2% default  /app/main.py:20\n"
				"   |- 13.3% compile  re/__init__.py:226\n"
				"   |  `- 13.3% [2 frames hidden]  re\n"
				"   `- 11.1% _find_and_load  <frozen importlib._bootstrap>:1165\n"
				"      `- 11.1% [3 frames hidden]  importlib, requests\n"
				"\n");
	/* The header keeps seconds */
	CHECK(strstr(out, "CPU time: 0.225 s") != NULL);
	free(out);

	/* filter_threshold: at 12%, the import (11.1%) goes; at 0, the 10 samples of run stay */
	o.prune_share = 0.12;
	out = render(&render_text, s, &o, &err);
	CHECK(strstr(out, "_find_and_load") == NULL);
	CHECK(strstr(out, "`- 13.3% compile") != NULL);
	free(out);
	frame_filter__free(f);
	session__free(s);
}

/* f, g, then f again under <module>, at 1 ms per sample; added out of time order. */
static struct session *timeline_fixture(void)
{
	struct session *s = session__new();
	int64_t mod, f, g, h;
	uint32_t sf, sg, sh;
	int i;

	session__add_process(s, &(struct session_process){ .pid = 7, .comm = "python3" });
	session__add_thread(s, 0, 7, "MainThread");
	mod = session__intern_frame(
		s, &(struct session_frame){ "<module>", "t.py", 1, 1, FRAME_PYTHON });
	f = session__intern_frame(s, &(struct session_frame){ "f", "t.py", 5, 6, FRAME_PYTHON });
	g = session__intern_frame(s, &(struct session_frame){ "g", "t.py", 9, 10, FRAME_PYTHON });
	h = session__intern_frame(s, &(struct session_frame){ "h", "t.py", 13, 14, FRAME_PYTHON });
	sf = session__intern_stack(s, session__intern_stack(s, 0, mod), f);
	sg = session__intern_stack(s, session__intern_stack(s, 0, mod), g);
	sh = session__intern_stack(s, sf, h);
	/* 0-9 ms f (5-9 in h), 10-14 ms g, off CPU until 30 ms, then 30-39 ms f */
	for (i = 39; i >= 30; i--)
		session__add_sample(s, &(struct session_sample){ i * 1000000ULL, 1000000, 0, sf });
	for (i = 0; i < 15; i++)
		session__add_sample(s, &(struct session_sample){ i * 1000000ULL, 1000000, 0,
								 i < 5	? sf :
								 i < 10 ? sh :
									  sg });
	return s;
}

static void test_text_timeline(void)
{
	struct session *s = timeline_fixture();
	struct render_opts o = render_opts_default;
	char *out;
	int err;

	out = render(&render_text, s, &o, &err);
	CHECK_STR(tree_of(out), "0.025 <module>  t.py:1\n"
				"├─ 0.020 f  t.py:5\n"
				"│  └─ 0.005 h  t.py:13\n"
				"└─ 0.005 g  t.py:9\n"
				"\n");
	free(out);

	o.timeline = true;
	out = render(&render_text, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK_STR(tree_of(out), "0.025 <module>  t.py:1\n"
				"├─ 0.010 f  t.py:5\n"
				"│  └─ 0.005 h  t.py:13\n"
				"├─ 0.005 g  t.py:9\n"
				"└─ 0.010 f  t.py:5\n"
				"\n");
	free(out);

	/* Pruning keeps time order: at 25%, g (20%) goes, the first f stays first */
	o.prune_share = 0.25;
	out = render(&render_text, s, &o, &err);
	CHECK_STR(tree_of(out), "0.025 <module>  t.py:1\n"
				"├─ 0.010 f  t.py:5\n"
				"└─ 0.010 f  t.py:5\n"
				"\n");
	free(out);
	session__free(s);
}

/* Process 7's MainThread, and the stacks <module> (*@smod) and <module>;f (*@sf). */
static struct session *module_f_session(uint32_t *smod, uint32_t *sf)
{
	struct session *s = session__new();
	int64_t mod, f;

	session__add_process(s, &(struct session_process){ .pid = 7, .comm = "python3" });
	session__add_thread(s, 0, 7, "MainThread");
	mod = session__intern_frame(
		s, &(struct session_frame){ "<module>", "t.py", 1, 1, FRAME_PYTHON });
	f = session__intern_frame(s, &(struct session_frame){ "f", "t.py", 5, 6, FRAME_PYTHON });
	*smod = session__intern_stack(s, 0, mod);
	*sf = session__intern_stack(s, *smod, f);
	return s;
}

/* A sample that could not be read whole does not cut a timeline's calls in two. */
static void test_timeline_markers(void)
{
	struct render_opts o = render_opts_default;
	int64_t g, bad;
	uint32_t smod, sf, sbad;
	struct session *s = module_f_session(&smod, &sf);
	uint64_t t = 0;
	char *out;
	int err;

	bad = session__intern_frame(s, &(struct session_frame){ "", "", 0, 0, FRAME_UNREADABLE });
	sbad = session__intern_stack(s, 0, bad);
	add_n(s, 0, sf, 5, W, &t);
	add_n(s, 0, sbad, 1, W, &t);
	add_n(s, 0, session__intern_stack(s, smod, bad), 1, W, &t);
	add_n(s, 0, sf, 5, W, &t);
	/* Nor does a call seen in one sample only: it is below what sampling can tell */
	g = session__intern_frame(s, &(struct session_frame){ "g", "t.py", 9, 9, FRAME_PYTHON });
	add_n(s, 0, session__intern_stack(s, smod, g), 1, W, &t);
	add_n(s, 0, sf, 5, W, &t);
	o.timeline = true;
	out = render(&render_text, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK_STR(tree_of(out), "0.017 <module>  t.py:1\n"
				"├─ 0.015 f  t.py:5\n"
				"├─ 0.001 <unreadable>\n"
				"└─ 0.001 g  t.py:9\n"
				"0.001 <unreadable>\n"
				"\n");
	free(out);
	/* g again, once: no call in between either, whatever came before */
	add_n(s, 0, session__intern_stack(s, smod, g), 1, W, &t);
	add_n(s, 0, sf, 1, W, &t);
	out = render(&render_text, s, &o, &err);
	CHECK_STR(tree_of(out), "0.019 <module>  t.py:1\n"
				"├─ 0.016 f  t.py:5\n"
				"├─ 0.001 <unreadable>\n"
				"├─ 0.001 g  t.py:9\n"
				"└─ 0.001 g  t.py:9\n"
				"0.001 <unreadable>\n"
				"\n");
	free(out);
	/* Two samples are a call: f splits */
	add_n(s, 0, session__intern_stack(s, smod, g), 1, W, &t);
	add_n(s, 0, session__intern_stack(s, smod, g), 1, W, &t);
	add_n(s, 0, sf, 1, W, &t);
	out = render(&render_text, s, &o, &err);
	CHECK_STR(tree_of(out), "0.022 <module>  t.py:1\n"
				"├─ 0.016 f  t.py:5\n"
				"├─ 0.001 <unreadable>\n"
				"├─ 0.001 g  t.py:9\n"
				"├─ 0.001 g  t.py:9\n"
				"├─ 0.002 g  t.py:9\n"
				"└─ 0.001 f  t.py:5\n"
				"0.001 <unreadable>\n"
				"\n");
	free(out);
	session__free(s);
}

/*
 * A wait is one sample of its whole length: a call, not noise. f, a 500 ms sleep in main's
 * own code, then f again: two calls of f in a timeline, either side of the sleep; a wait of
 * less than a sampling period between them is looked past as before.
 */
static void test_timeline_waits(void)
{
	struct render_opts o = render_opts_default;
	uint32_t smod, sf, ssleep;
	struct session *s = module_f_session(&smod, &sf);
	uint64_t t = 0;
	char *out;
	int err;

	ssleep = session__intern_stack(
		s, smod,
		session__intern_frame(s,
				      &(struct session_frame){ "[sleep]", "", 0, 0, FRAME_WAIT }));
	add_n(s, 0, sf, 5, W, &t);
	add_n(s, 0, ssleep, 1, 500 * W, &t);
	add_n(s, 0, sf, 5, W, &t);
	add_n(s, 0, ssleep, 1, W / 2, &t);
	add_n(s, 0, sf, 5, W, &t);
	o.timeline = true;
	o.prune_share = 0;
	out = render(&render_text, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK_STR(tree_of(out), "0.516 <module>  t.py:1\n"
				"├─ 0.005 f  t.py:5\n"
				"├─ 0.501 [sleep]\n"
				"├─ 0.010 f  t.py:5\n"
				"└─ 0.001 [sleep]\n"
				"\n");
	free(out);
	session__free(s);
}

/* A timeline with hidden frames: groups continue like frames, split like frames. */
static void test_timeline_groups(void)
{
	struct session *s = lib_fixture();
	struct frame_filter *f = frame_filter__new();
	struct render_opts o = render_opts_default;
	struct render_tree t;
	uint32_t run;

	o.filter = f;
	o.timeline = true;
	CHECK_INT(render_tree__build_view(&t, s, &o, RENDER_THREADS_AUTO), 0);
	CHECK(t.timeline);
	/* run's children in time order: dumps (150), compile, dumps again (10), the import */
	run = child(&t, child(&t, child(&t, 0, 0), 0), 0);
	CHECK_STR(ff(&t, run)->name, "run");
	CHECK_INT(t.nodes[run].nchildren, 4);
	CHECK_STR(ff(&t, child(&t, run, 0))->name, "dumps");
	CHECK_INT(t.nodes[child(&t, run, 0)].total_ns, 150 * W);
	CHECK_STR(ff(&t, child(&t, run, 1))->name, "compile");
	CHECK_STR(ff(&t, child(&t, run, 2))->name, "dumps");
	CHECK_INT(t.nodes[child(&t, run, 2)].total_ns, 10 * W);
	CHECK_STR(ff(&t, child(&t, run, 3))->name, "_find_and_load");
	CHECK_INT(t.ngroups, 3);
	if (t.ngroups == 3) {
		CHECK_STR(t.groups[0].libs, "json");
		CHECK_INT(t.groups[0].nframes, 2);
		CHECK_STR(t.groups[2].libs, "importlib, requests");
		CHECK_INT(t.groups[2].nframes, 3);
	}
	render_tree__release(&t);
	frame_filter__free(f);
	session__free(s);
}

static const char lib_flat[] =
	"  self s  self %   total s total %   samples  function  file:line\n"
	"   0.100   44.4%     0.150   66.7%       150  iterencode  json/encoder.py:205\n"
	"   0.050   22.2%     0.050   22.2%        50  default  /app/main.py:20\n"
	"   0.030   13.3%     0.030   13.3%        30  parse  re/_parser.py:970\n"
	"   0.020    8.9%     0.020    8.9%        20  <module>  requests/__init__.py:1\n"
	"   0.010    4.4%     0.225  100.0%       225  run  /app/main.py:10\n"
	"   0.010    4.4%     0.160   71.1%       160  dumps  json/__init__.py:183\n"
	"   0.005    2.2%     0.025   11.1%        25  exec_module  "
	"<frozen importlib._bootstrap_external>:990\n"
	"   0.000    0.0%     0.225  100.0%       225  <module>  /app/main.py:1\n"
	"   0.000    0.0%     0.150   66.7%       150  JSONEncoder.encode  json/encoder.py:183\n"
	"   0.000    0.0%     0.030   13.3%        30  _compile  re/__init__.py:280\n"
	"   0.000    0.0%     0.030   13.3%        30  compile  re/__init__.py:226\n"
	"   0.000    0.0%     0.025   11.1%        25  _find_and_load  "
	"<frozen importlib._bootstrap>:1165\n"
	"   0.000    0.0%     0.025   11.1%        25  _load_unlocked  "
	"<frozen importlib._bootstrap>:900\n"
	"\n";

/* The rows of a flat report, from its column header on. */
static const char *rows_of(const char *text)
{
	const char *p = text ? strstr(text, "  self s") : NULL;

	return p ? p : "";
}

/* The function names of the rows, in order: "a b c". */
static char *names_of(const char *rows)
{
	static char buf[1024];
	const char *p;

	buf[0] = '\0';
	for (p = strchr(rows, '\n'); p && p[1] && p[1] != '\n'; p = strchr(p + 1, '\n')) {
		const char *name = strstr(p, "  ") ? p + 1 : NULL;
		int skip = 0;

		/* Five columns, then two spaces, then the name */
		while (name && skip < 5) {
			while (*name == ' ')
				name++;
			while (*name && *name != ' ')
				name++;
			skip++;
		}
		if (!name)
			break;
		name += 2;
		append(buf, sizeof(buf), "%s%.*s", buf[0] ? " " : "", (int)strcspn(name, " "),
		       name);
	}
	return buf;
}

static void test_flat(void)
{
	struct session *s = lib_fixture();
	struct render_opts o = render_opts_default;
	struct frame_filter *f = frame_filter__new();
	char *out;
	int err;

	/* Every function is listed, library code too: the filter is for trees */
	o.filter = f;
	out = render(&render_flat, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK(strstr(out, "  Health:   ") != NULL);
	CHECK(strstr(out, "Process 100 python3 — python3 main.py — Python 3.12.1\n"
			  "  Samples: 225   CPU time: 0.225 s\n\n") != NULL);
	CHECK_STR(rows_of(out), lib_flat);
	CHECK(terminal_safe(out));
	free(out);

	o.sort = FLAT_SORT_TOTAL;
	out = render(&render_flat, s, &o, &err);
	CHECK_STR(names_of(rows_of(out)),
		  "run <module> dumps iterencode JSONEncoder.encode "
		  "default parse _compile compile exec_module _find_and_load _load_unlocked "
		  "<module>");
	free(out);
	o.sort = FLAT_SORT_NAME;
	out = render(&render_flat, s, &o, &err);
	CHECK_STR(names_of(rows_of(out)),
		  "<module> <module> JSONEncoder.encode _compile "
		  "_find_and_load _load_unlocked compile default dumps exec_module iterencode "
		  "parse run");
	free(out);
	o.sort = FLAT_SORT_FILE;
	out = render(&render_flat, s, &o, &err);
	CHECK_STR(names_of(rows_of(out)),
		  "<module> run default dumps JSONEncoder.encode "
		  "iterencode compile _compile parse <module> _load_unlocked _find_and_load "
		  "exec_module");
	free(out);

	/* The threshold drops rows under it and says how many */
	o.sort = FLAT_SORT_SELF;
	o.prune_share = 0.2;
	out = render(&render_flat, s, &o, &err);
	CHECK(strstr(out, "(7 more functions below 20% of the time: -p filter_threshold=0 shows "
			  "them)\n") != NULL);
	free(out);
	frame_filter__free(f);
	session__free(s);
}

/* Recursion counts once per sample in total time; processes each have their table. */
static void test_flat_recursion(void)
{
	struct session *s = session__new();
	struct render_opts o = render_opts_default;
	int64_t rec, leaf;
	uint32_t node = 0;
	uint64_t t = 0;
	char *out;
	int i, err;

	session__add_process(s, &(struct session_process){ .pid = 1, .comm = "a" });
	session__add_process(s, &(struct session_process){ .pid = 2, .comm = "b" });
	session__add_process(s, &(struct session_process){ .pid = 3, .comm = "idle" });
	session__add_thread(s, 0, 1, "");
	session__add_thread(s, 0, 11, "");
	session__add_thread(s, 1, 2, "");
	rec = session__intern_frame(s,
				    &(struct session_frame){ "rec", "r.py", 1, 2, FRAME_PYTHON });
	leaf = session__intern_frame(s,
				     &(struct session_frame){ "leaf", "r.py", 9, 9, FRAME_PYTHON });
	for (i = 0; i < 5; i++)
		node = session__intern_stack(s, node, rec);
	add_n(s, 0, node, 3, W, &t);
	add_n(s, 1, session__intern_stack(s, node, leaf), 1, W, &t);
	add_n(s, 2, session__intern_stack(s, 0, leaf), 2, W, &t);
	o.unicode = false;
	out = render(&render_flat, s, &o, &err);
	CHECK_INT(err, 0);
	CHECK(strstr(out, "Process 1 a\n  Samples: 4   CPU time: 0.004 s   Threads: 2\n\n"
			  "  self s  self %   total s total %   samples  function  file:line\n"
			  "   0.003   75.0%     0.004  100.0%         4  rec  r.py:1\n"
			  "   0.001   25.0%     0.001   25.0%         1  leaf  r.py:9\n\n"
			  "Process 2 b\n  Samples: 2   CPU time: 0.002 s\n\n") != NULL);
	CHECK(strstr(out, "\nNo samples from: 3 idle\n") != NULL);
	free(out);
	session__free(s);
}

/* The events of an evented profile as "O0@0 C0@0.001", checking they nest. */
static char *events_of(const cJSON *profile, bool *nested)
{
	static char buf[4096];
	const cJSON *e;
	int open[64], depth = 0;
	double last = -1;

	buf[0] = '\0';
	*nested = true;
	cJSON_ArrayForEach(e, item(profile, "events"))
	{
		const char *type = str(e, "type");
		int frame = (int)num(e, "frame");
		double at = num(e, "at");

		append(buf, sizeof(buf), "%s%s%d@%.9g", buf[0] ? " " : "", type ? type : "?", frame,
		       at);
		if (at < last)
			*nested = false;
		last = at;
		if (type && !strcmp(type, "O") && depth < 64)
			open[depth++] = frame;
		else if (type && !strcmp(type, "C") && depth && open[depth - 1] == frame)
			depth--;
		else
			*nested = false;
	}
	if (depth)
		*nested = false;
	return buf;
}

static void test_speedscope_evented(void)
{
	struct session *s = timeline_fixture();
	struct render_opts o = render_opts_default;
	const cJSON *p;
	cJSON *doc;
	bool nested;
	char *out;
	int err;

	o.timeline = true;
	out = render(&render_speedscope, s, &o, &err);
	CHECK_INT(err, 0);
	doc = cJSON_Parse(out);
	CHECK(doc != NULL);
	p = cJSON_GetArrayItem(item(doc, "profiles"), 0);
	CHECK_STR(str(p, "type"), "evented");
	CHECK_STR(str(p, "name"), "7 python3 / 7 MainThread");
	CHECK_STR(str(p, "unit"), "seconds");
	CHECK(num(p, "startValue") == 0);
	CHECK(num(p, "endValue") == 0.04);
	CHECK(item(p, "samples") == NULL);
	/* f opens at 0, h within it at 5 ms, g replaces f at 10 ms; off CPU from 15 to 30 ms */
	CHECK_STR(events_of(p, &nested), "O0@0 O1@0 O3@0.005 C3@0.01 C1@0.01 O2@0.01 C2@0.015 "
					 "C0@0.015 O0@0.03 O1@0.03 C1@0.04 C0@0.04");
	CHECK(nested);
	cJSON_Delete(doc);
	free(out);
	session__free(s);

	/* The fixture: every thread's events nest; the main thread comes before its worker */
	s = fixture();
	out = render(&render_speedscope, s, &o, &err);
	CHECK_INT(err, 0);
	doc = cJSON_Parse(out);
	CHECK(doc != NULL);
	CHECK_INT(cJSON_GetArraySize(item(doc, "profiles")), 3);
	cJSON_ArrayForEach(p, item(doc, "profiles"))
	{
		CHECK_STR(str(p, "type"), "evented");
		events_of(p, &nested);
		CHECK(nested);
	}
	p = cJSON_GetArrayItem(item(doc, "profiles"), 1);
	CHECK_STR(str(p, "name"), "4242 python3 / 4242 MainThread");
	/* main:25 and main:27 are one function: main stays open, work opens twice */
	CHECK_STR(events_of(p, &nested), "O0@1e-06 O1@1e-06 O2@1e-06 C2@0.3003013 O2@0.405406405 "
					 "C2@0.408409408 C1@0.408409408 C0@0.408409408");
	CHECK_STR(str(cJSON_GetArrayItem(item(doc, "profiles"), 2), "name"),
		  "4242 python3 / 4243 worker");
	cJSON_Delete(doc);
	free(out);
	session__free(s);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	RUN(test_registry);
	RUN(test_escaping);
	RUN(test_fold_frames);
	RUN(test_tree);
	RUN(test_text);
	RUN(test_text_color);
	RUN(test_text_empty);
	RUN(test_collapsed);
	RUN(test_collapsed_single);
	RUN(test_collapsed_merge);
	RUN(test_speedscope);
	RUN(test_speedscope_empty);
	RUN(test_text_hidden);
	RUN(test_text_percent);
	RUN(test_text_timeline);
	RUN(test_timeline_markers);
	RUN(test_timeline_waits);
	RUN(test_timeline_groups);
	RUN(test_flat);
	RUN(test_flat_recursion);
	RUN(test_speedscope_evented);
	RUN(test_deep);
	RUN(test_large);
	return test_summary();
}
