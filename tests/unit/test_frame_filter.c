/* SPDX-License-Identifier: MIT */
/* test_frame_filter.c — library code per process layout, library names, hide/show precedence. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "render/frame_filter.h"
#include "test.h"

static struct session_process proc(const char *lib_dirs)
{
	return (struct session_process){ .pid = 1, .comm = "python3", .lib_dirs = lib_dirs };
}

/* frame_library_name() into a static buffer. */
static const char *lib(const struct session_process *p, const char *file)
{
	static char buf[64];

	frame_library_name(p, file, buf, sizeof(buf));
	return buf;
}

static void test_pyenv(void)
{
	struct session_process p = proc("/root/.pyenv/versions/3.12.1/lib/python3.12");
	const char *json = "/root/.pyenv/versions/3.12.1/lib/python3.12/json/decoder.py";
	const char *site = "/root/.pyenv/versions/3.12.1/lib/python3.12/site-packages/"
			   "requests/api.py";

	CHECK(frame_is_library(&p, json));
	CHECK_STR(lib(&p, json), "json");
	CHECK(frame_is_library(&p, site));
	CHECK_STR(lib(&p, site), "requests");
	CHECK(frame_is_library(&p, "/root/.pyenv/versions/3.12.1/lib/python3.12/threading.py"));
	CHECK_STR(lib(&p, "/root/.pyenv/versions/3.12.1/lib/python3.12/threading.py"), "threading");
	/* The program, and another interpreter's stdlib, are not this process's library */
	CHECK(!frame_is_library(&p, "/root/app/main.py"));
	CHECK(!frame_is_library(&p, "/root/.pyenv/versions/3.11.7/lib/python3.11/json/x.py"));
	CHECK(!frame_is_library(&p, "/root/.pyenv/versions/3.12.1/lib/python3.12x/json.py"));
	CHECK(!frame_is_library(&p, "/root/.pyenv/versions/3.12.1/lib/python3.12"));
	CHECK(!frame_is_library(&p, "main.py"));
}

static void test_debian(void)
{
	/* Debian: stdlib in /usr/lib/python3.11, packages in dist-packages */
	struct session_process p = proc("/usr/lib/python3.11");

	CHECK(frame_is_library(&p, "/usr/lib/python3.11/asyncio/base_events.py"));
	CHECK_STR(lib(&p, "/usr/lib/python3.11/asyncio/base_events.py"), "asyncio");
	CHECK(frame_is_library(&p, "/usr/lib/python3/dist-packages/apt/package.py"));
	CHECK_STR(lib(&p, "/usr/lib/python3/dist-packages/apt/package.py"), "apt");
	CHECK(frame_is_library(&p, "/usr/local/lib/python3.11/dist-packages/numpy/core/a.py"));
	CHECK_STR(lib(&p, "/usr/local/lib/python3.11/dist-packages/numpy/core/a.py"), "numpy");
	CHECK_STR(lib(&p, "/usr/lib/python3/dist-packages/six.py"), "six");
	/* A folder merely named like one is not */
	CHECK(!frame_is_library(&p, "/srv/mysite-packages/x.py"));
	CHECK(!frame_is_library(&p, "/usr/lib/python3.1/json/x.py"));
	CHECK(!frame_is_library(&p, "/usr/bin/app.py"));
}

static void test_venv(void)
{
	/* A venv: the stdlib is the base interpreter's, the packages the venv's */
	struct session_process p = proc("/usr/lib/python3.11");
	const char *flask = "/home/u/proj/.venv/lib/python3.11/site-packages/flask/app.py";

	CHECK(frame_is_library(&p, flask));
	CHECK_STR(lib(&p, flask), "flask");
	CHECK(!frame_is_library(&p, "/home/u/proj/app/views.py"));
	/* The innermost packages folder names the library (vendored packages) */
	CHECK_STR(lib(&p, "/v/site-packages/pip/_vendor/site-packages/rich/console.py"), "rich");
	CHECK_STR(lib(&p, "site-packages/attr/_make.py"), "attr");
}

static void test_container(void)
{
	/* A container's interpreter, named as the process sees it; two stdlib folders */
	struct session_process p = proc("/usr/local/lib/python3.12:/opt/py/lib/python3.12/");

	CHECK(frame_is_library(&p, "/usr/local/lib/python3.12/concurrent/futures/thread.py"));
	CHECK_STR(lib(&p, "/usr/local/lib/python3.12/concurrent/futures/thread.py"), "concurrent");
	CHECK(frame_is_library(&p, "/opt/py/lib/python3.12/socket.py"));
	CHECK_STR(lib(&p, "/opt/py/lib/python3.12/socket.py"), "socket");
	CHECK(!frame_is_library(&p, "/app/server.py"));
	/* No folders known: only the markers count */
	p = proc("");
	CHECK(!frame_is_library(&p, "/usr/local/lib/python3.12/socket.py"));
	CHECK(frame_is_library(&p, "/usr/local/lib/python3.12/site-packages/x/y.py"));
	CHECK(frame_is_library(NULL, "<frozen runpy>"));
	CHECK(!frame_is_library(NULL, "/usr/lib/python3.12/os.py"));
}

static void test_frozen(void)
{
	struct session_process p = proc("/usr/lib/python3.12");

	CHECK(frame_is_library(&p, "<frozen importlib._bootstrap>"));
	CHECK_STR(lib(&p, "<frozen importlib._bootstrap>"), "importlib");
	CHECK_STR(lib(&p, "<frozen importlib._bootstrap_external>"), "importlib");
	CHECK_STR(lib(&p, "<frozen runpy>"), "runpy");
	CHECK_STR(lib(&p, "<frozen posixpath>"), "posixpath");
	/* Code run with exec() or typed in is the program's */
	CHECK(!frame_is_library(&p, "<string>"));
	CHECK(!frame_is_library(&p, "<stdin>"));
	CHECK(!frame_is_library(&p, ""));
	CHECK(!frame_is_library(&p, NULL));
}

static void test_names(void)
{
	struct session_process p = proc("/usr/lib/python3.12");
	char small[4];

	/* Hidden by a rule, not a library: the module's name */
	CHECK_STR(lib(&p, "/srv/app/views.py"), "views");
	CHECK_STR(lib(&p, "manage.py"), "manage");
	CHECK_STR(lib(&p, ""), "");
	CHECK_STR(lib(&p, NULL), "");
	/* Cut to fit, always terminated */
	frame_library_name(&p, "/usr/lib/python3.12/asyncio/x.py", small, sizeof(small));
	CHECK_STR(small, "asy");
	frame_library_name(&p, "/usr/lib/python3.12/asyncio/x.py", small, 0);
}

static struct session_frame py(const char *file)
{
	return (struct session_frame){ "f", file, 1, 2, FRAME_PYTHON };
}

static void test_rules(void)
{
	struct session_process p = proc("/usr/lib/python3.12");
	struct frame_filter *f = frame_filter__new();
	struct session_frame json = py("/usr/lib/python3.12/json/encoder.py");
	struct session_frame app = py("/srv/app/views.py");
	struct session_frame test = py("/srv/app/tests/test_views.py");
	struct session_frame marker = { "<truncated>", "", 0, 0, FRAME_TRUNCATED };
	char err[128];

	CHECK(f != NULL);
	/* By default: library code only */
	CHECK(frame_filter__hides(f, &p, &json));
	CHECK(!frame_filter__hides(f, &p, &app));
	CHECK(!frame_filter__hides(f, &p, &marker));
	CHECK(!frame_filter__hides(NULL, &p, &json));

	/* --hide: '*' crosses '/' */
	CHECK_INT(frame_filter__add(f, FILTER_HIDE_GLOB, "*/tests/*", err, sizeof(err)), 0);
	CHECK(frame_filter__hides(f, &p, &test));
	CHECK(!frame_filter__hides(f, &p, &app));
	/* --show wins over --hide and over the library default, given before or after */
	CHECK_INT(frame_filter__add(f, FILTER_SHOW_REGEX, "test_[a-z]+\\.py$", err, sizeof(err)),
		  0);
	CHECK(!frame_filter__hides(f, &p, &test));
	CHECK_INT(frame_filter__add(f, FILTER_SHOW_GLOB, "*/json/*", err, sizeof(err)), 0);
	CHECK(!frame_filter__hides(f, &p, &json));
	CHECK_INT(frame_filter__add(f, FILTER_HIDE_REGEX, "json", err, sizeof(err)), 0);
	CHECK(!frame_filter__hides(f, &p, &json));
	/* A regex is found anywhere in the path; a glob must match all of it */
	CHECK_INT(frame_filter__add(f, FILTER_HIDE_REGEX, "app/v", err, sizeof(err)), 0);
	CHECK(frame_filter__hides(f, &p, &app));
	CHECK(!frame_filter__hides(f, &p, &marker));
	/* --show-all: nothing hidden */
	frame_filter__show_all(f);
	CHECK(!frame_filter__hides(f, &p, &app));
	CHECK(!frame_filter__hides(f, &p, &json));
	frame_filter__free(f);
	frame_filter__free(NULL);

	f = frame_filter__new();
	CHECK_INT(frame_filter__add(f, FILTER_HIDE_GLOB, "/srv/app/views.py", NULL, 0), 0);
	CHECK(frame_filter__hides(f, &p, &app));
	CHECK(!frame_filter__hides(f, &p, &test));
	CHECK_INT(frame_filter__add(f, FILTER_SHOW_REGEX, "^/srv/", NULL, 0), 0);
	CHECK(!frame_filter__hides(f, &p, &app));
	frame_filter__free(f);

	/* Python's dialect, as pyinstrument's users write it: (?:...), \\d a digit */
	f = frame_filter__new();
	CHECK_INT(frame_filter__add(f, FILTER_HIDE_REGEX, "/(?:srv|opt)/app/\\w+\\d\\.py$", err,
				    sizeof(err)),
		  0);
	app = py("/opt/app/v2.py");
	CHECK(frame_filter__hides(f, &p, &app));
	app = py("/opt/app/vd.py");
	CHECK(!frame_filter__hides(f, &p, &app));
	frame_filter__free(f);
}

static void test_bad_rules(void)
{
	struct frame_filter *f = frame_filter__new();
	char err[128];

	/* A bad regex says why */
	err[0] = '\0';
	CHECK_INT(frame_filter__add(f, FILTER_HIDE_REGEX, "a(", err, sizeof(err)), -EINVAL);
	CHECK(strlen(err) > 3);
	err[0] = '\0';
	CHECK_INT(frame_filter__add(f, FILTER_SHOW_REGEX, "[z-a]", err, sizeof(err)), -EINVAL);
	CHECK(err[0] != '\0');
	CHECK_INT(frame_filter__add(f, FILTER_SHOW_REGEX, "*x", err, 0), -EINVAL);
	CHECK_INT(frame_filter__add(f, FILTER_HIDE_GLOB, NULL, err, sizeof(err)), -EINVAL);
	CHECK_INT(frame_filter__add(NULL, FILTER_HIDE_GLOB, "x", err, sizeof(err)), -EINVAL);
	CHECK_INT(frame_filter__add(f, (enum frame_filter_rule)9, "x", err, sizeof(err)), -EINVAL);
	/* A glob is never wrong: "[" matches itself */
	CHECK_INT(frame_filter__add(f, FILTER_HIDE_GLOB, "[", err, sizeof(err)), 0);
	/* Many rules */
	for (int i = 0; i < 100; i++)
		CHECK_INT(frame_filter__add(f, i % 2 ? FILTER_HIDE_GLOB : FILTER_HIDE_REGEX, "x",
					    err, sizeof(err)),
			  0);
	frame_filter__free(f);
}

int main(void)
{
	RUN(test_pyenv);
	RUN(test_debian);
	RUN(test_venv);
	RUN(test_container);
	RUN(test_frozen);
	RUN(test_names);
	RUN(test_rules);
	RUN(test_bad_rules);
	return test_summary();
}
