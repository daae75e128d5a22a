/* SPDX-License-Identifier: MIT */
/*
 * test_push.c — the agent's --push without BPF: URLs (the password never shown, https
 * refused), application names and labels, the profiles of a slice, and the HTTP client
 * against a peer in a child process (a status, a chunked body's line, a peer that never
 * answers, one that sends headers without end).
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/http_post.h"
#include "agent/push_profiles.h"
#include "lib/clock.h"
#include "test.h"

#define S 1000000000ULL

static void test_urls(void)
{
	struct http_url u;
	char err[512];

	CHECK_INT(http_url_parse("http://localhost:4040", &u, err, sizeof(err)), 0);
	CHECK_STR(u.host, "localhost");
	CHECK_STR(u.port, "4040");
	CHECK_STR(u.path, "");
	CHECK_STR(u.auth, "");
	CHECK_INT(http_url_parse("http://pyro.example/base/", &u, err, sizeof(err)), 0);
	CHECK_STR(u.port, "80");
	CHECK_STR(u.path, "/base");
	CHECK_INT(http_url_parse("http://123:p%40ss@[::1]:9999/x", &u, err, sizeof(err)), 0);
	CHECK_STR(u.host, "::1");
	CHECK_STR(u.port, "9999");
	CHECK_STR(u.auth, "123:p@ss");
	CHECK_STR(u.shown, "http://123:***@[::1]:9999/x");
	CHECK(!strstr(u.shown, "p@ss"));
	CHECK_INT(http_url_parse("https://u:secret@grafana.net", &u, err, sizeof(err)),
		  -EPROTONOSUPPORT);
	CHECK(strstr(err, "Alloy") && !strstr(err, "secret"));
	CHECK_INT(http_url_parse("http://u:secret@h:99999", &u, err, sizeof(err)), -EINVAL);
	CHECK(!strstr(err, "secret"));
	CHECK_INT(http_url_parse("localhost:4040", &u, err, sizeof(err)), -EINVAL);
	CHECK_INT(http_url_parse("http://h/ingest?name=x", &u, err, sizeof(err)), -EINVAL);
	CHECK_INT(http_url_parse("http://", &u, err, sizeof(err)), -EINVAL);
	CHECK_INT(http_url_parse("http://a b/", &u, err, sizeof(err)), -EINVAL);
	/* nothing that would end the request line early */
	CHECK_INT(http_url_parse("http://h/x\r\nX-Evil: 1", &u, err, sizeof(err)), -EINVAL);
}

static void test_names(void)
{
	struct session_process p = { .pid = 7,
				     .comm = "python3",
				     .cmdline = "/usr/bin/python3 /srv/app/worker.py --queue=high",
				     .cgroup = "",
				     .container = "" };
	char buf[128];

	push_app_name(&p, GROUP_BY_CMDLINE, buf, sizeof(buf));
	CHECK_STR(buf, "python3_worker.py_--queue_high");
	push_app_name(&p, GROUP_BY_NONE, buf, sizeof(buf));
	CHECK_STR(buf, "python");
	p.container = "3f2a9c0d1e2b";
	push_app_name(&p, GROUP_BY_CONTAINER, buf, sizeof(buf));
	CHECK_STR(buf, "3f2a9c0d1e2b");
	p.container = "";
	p.cgroup = "/system.slice/web.service";
	push_app_name(&p, GROUP_BY_CONTAINER, buf, sizeof(buf));
	CHECK_STR(buf, "web.service");
	/* nothing usable in the command line: the kernel's name; nothing at all: "python" */
	p.cmdline = "\x1b[31m {}";
	push_app_name(&p, GROUP_BY_PROCESS, buf, sizeof(buf));
	CHECK_STR(buf, "31m_");
	p.cmdline = "";
	p.comm = "";
	push_app_name(&p, GROUP_BY_PROCESS, buf, sizeof(buf));
	CHECK_STR(buf, "python");
	/* long: cut at 100 */
	p.cmdline =
		"python aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	push_app_name(&p, GROUP_BY_PROCESS, buf, sizeof(buf));
	CHECK_INT(strlen(buf), 100);

	CHECK(push_pod_uid("/kubepods/burstable/pod0c1d2e3f-1111-2222-3333-444455556666/"
			   "abcdef0123456789",
			   buf, sizeof(buf)));
	CHECK_STR(buf, "0c1d2e3f-1111-2222-3333-444455556666");
	CHECK(push_pod_uid("/kubepods.slice/kubepods-besteffort.slice/"
			   "kubepods-besteffort-pod0c1d2e3f_1111_2222_3333_444455556666.slice/"
			   "cri-containerd-0123.scope",
			   buf, sizeof(buf)));
	CHECK_STR(buf, "0c1d2e3f-1111-2222-3333-444455556666");
	CHECK(!push_pod_uid("/system.slice/docker-0123.scope", buf, sizeof(buf)));
	CHECK(!push_pod_uid("/kubepods/burstable/podnotauid/x", buf, sizeof(buf)));
	CHECK(!push_pod_uid(NULL, buf, sizeof(buf)));
	CHECK_STR(buf, "");
}

/* Two processes, 3 and 7 samples; the second in a pod. */
static struct session *make_slice(void)
{
	struct session *s = session__new();
	struct session_process p = { .pid = 100, .comm = "py,{a}", .cmdline = "python a.py" };
	struct session_meta m = { .start_realtime_ns = 1000 * S + S / 2,
				  .duration_ns = 2 * S,
				  .rate_hz = 99,
				  .ncpus = 2,
				  .mode = "cpu",
				  .target = "-a" };
	struct session_frame f = { "main", "a.py", 1, 2, FRAME_PYTHON };
	int64_t fa, s1;

	session__add_process(s, &p);
	p.pid = 200;
	p.comm = "python3";
	p.cmdline = "python b.py";
	session__add_process(s, &p);
	session__set_process_identity(
		s, 1, 0, "/kubepods/pod0c1d2e3f-1111-2222-3333-444455556666/0123456789ab",
		"0123456789ab");
	session__add_thread(s, 0, 100, "MainThread");
	session__add_thread(s, 1, 200, "MainThread");
	fa = session__intern_frame(s, &f);
	s1 = session__intern_stack(s, 0, (uint32_t)fa);
	for (uint64_t t = 0; t < 10; t++) {
		struct session_sample smp = { .time_ns = t * S / 10,
					      .weight_ns = 10000000,
					      .thread = t < 3 ? 0 : 1,
					      .stack = (uint32_t)s1 };

		session__add_sample(s, &smp);
	}
	session__set_meta(s, &m);
	return s;
}

static void test_profiles(void)
{
	struct session *s = make_slice(), *g = session_group(s, GROUP_BY_PROCESS);
	struct push_profile *pp;
	size_t n;

	CHECK_INT(push_applications(g), 2);
	CHECK_INT(push_profiles_make(g, GROUP_BY_PROCESS, &pp, &n), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(pp[0].samples, 3);
		CHECK_INT(pp[1].samples, 7);
		CHECK_STR(pp[0].app, "python_a.py");
		/* python_a.py{pid=100,process=py__a_} */
		CHECK_STR(pp[0].target, "/ingest?name=python_a.py%7Bpid%3D100%2Cprocess%3Dpy_"
					"_a_%7D&from=1000&until=1003&format=pprof&sampleRate=99"
					"&spyName=pyflare");
		CHECK(strstr(pp[1].target, "container%3D0123456789ab%2Cpod_uid%3D0c1d2e3f-1111-"
					   "2222-3333-444455556666%2Cpid%3D200%2Cprocess%3D"
					   "python3%7D"));
		CHECK(pp[0].len > 20 && ((unsigned char *)pp[0].body)[0] == 0x1f);
		for (size_t i = 0; i < n; i++)
			push_profile_release(&pp[i]);
		free(pp);
	}
	session__free(g);
	/* grouped by none: one application */
	g = session_group(s, GROUP_BY_NONE);
	CHECK_INT(push_profiles_make(g, GROUP_BY_NONE, &pp, &n), 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_INT(pp[0].samples, 10);
		CHECK_STR(pp[0].app, "python");
		push_profile_release(&pp[0]);
	}
	free(pp);
	session__free(g);
	session__free(s);
}

/* A peer on 127.0.0.1 that reads a request and writes @answer (NULL: nothing, ever). */
static pid_t peer(const char *answer, char *port, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), c;
	pid_t pid;
	char buf[65536];

	bind(fd, (struct sockaddr *)&a, sizeof(a));
	listen(fd, 4);
	getsockname(fd, (struct sockaddr *)&a, &alen);
	snprintf(port, len, "%u", ntohs(a.sin_port));
	pid = fork();
	if (pid) {
		close(fd);
		return pid;
	}
	c = accept(fd, NULL, NULL);
	if (read(c, buf, sizeof(buf)) <= 0)
		_exit(1);
	if (!answer)
		pause();
	else if (!strcmp(answer, "endless") && write(c, "HTTP/1.1 404 Not Found\r\n", 24) > 0)
		for (;;)
			if (write(c, "X: y\r\n", 6) < 0)
				_exit(0);
	if (write(c, answer, strlen(answer)) < 0)
		_exit(1);
	/* the end of the answer, then what is left of the request read: a socket closed with
	 * unread bytes sends a reset, which may reach the client before the answer does */
	shutdown(c, SHUT_WR);
	while (read(c, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

static int post(const char *answer, uint64_t timeout_ns, struct http_result *res)
{
	struct http_url u;
	char err[256], port[8], url[64];
	struct http_request rq = { .url = &u,
				   .target = "/ingest?x=1",
				   .content_type = "application/octet-stream",
				   .body = "abc",
				   .len = 3,
				   .connect_timeout_ns = S,
				   .timeout_ns = timeout_ns,
				   .cancel_fd = -1 };
	pid_t pid = peer(answer, port, sizeof(port));
	int r;

	snprintf(url, sizeof(url), "http://127.0.0.1:%s", port);
	http_url_parse(url, &u, err, sizeof(err));
	r = http_post(&rq, res);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return r;
}

static void test_http(void)
{
	struct http_result res;
	uint64_t t0;

	CHECK_INT(post("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", S, &res), 0);
	CHECK_INT(res.status, 200);
	CHECK_INT(post("HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
		       "1c\r\ninvalid name: no app\x1b[0m\r\n0\r\n\r\n",
		       S, &res),
		  0);
	CHECK_INT(res.status, 400);
	CHECK_STR(res.body_line, "invalid name: no app\x1b[0m");
	CHECK_INT(post("SSH-2.0-OpenSSH\r\n\r\n\r\n", S, &res), -EPROTO);
	CHECK_INT(post("HTTP/1.1", S, &res), -EPROTO);
	/* a peer that never answers: the request's time, no more */
	t0 = now_ns();
	CHECK_INT(post(NULL, S / 5, &res), -ETIMEDOUT);
	CHECK(now_ns() - t0 < 5 * S);
	/* headers without end: read as far as the bound, the status taken */
	CHECK_INT(post("endless", S, &res), 0);
	CHECK_INT(res.status, 404);
	CHECK_STR(res.body_line, "");
}

int main(void)
{
	RUN(test_urls);
	RUN(test_names);
	RUN(test_profiles);
	RUN(test_http);
	return test_summary();
}
