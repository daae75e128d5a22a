/* SPDX-License-Identifier: MIT */
/*
 * opts_help.c — the usage line and the --help of `pyflare record`, `report`, `top` and `dump`
 * (opts.h); opts.c parses and checks the options themselves.
 */
#include "cli/opts.h"

#include <stdio.h>
#include <string.h>

#include "record/tick_clock.h"
#include "render/render.h"
#include "top/top_view.h"

void opts_print_usage(void)
{
	printf("usage: pyflare record [options] (-p PID[,PID...] | -a | -- COMMAND [ARGS...])\n"
	       "       pyflare top [options] (-p PID[,PID...] | -a | -- COMMAND [ARGS...])\n"
	       "       pyflare report [options] (FILE... | DIR | --last)\n"
	       "       pyflare dump [--json] [--async] -p PID[,PID...] [--subprocesses]\n"
	       "       pyflare agent [options] [--dir DIR]\n"
	       "       pyflare status [--dir DIR] [--json]\n"
	       "       pyflare snapshot [--dir DIR] [--last SECONDS] [-o FILE...]\n"
	       "       pyflare doctor [--json]\n"
	       "       pyflare completions bash|zsh|fish\n"
	       "\n"
	       "pyflare is a sampling profiler for CPython 3.8-3.15 that walks Python stacks\n"
	       "in the kernel with eBPF: no code change, no restart, no pause of the target.\n"
	       "\n"
	       "commands:\n"
	       "  record    profile a command, running processes or the whole host\n"
	       "  top       the same, live: the functions taking the time, second by second\n"
	       "  report    show a saved recording again, with other options or formats\n"
	       "  dump      print every thread's Python stack of running processes, now\n"
	       "  agent     profile the host always, in time slices kept on disk\n"
	       "  status    ask a running agent how it is doing\n"
	       "  snapshot  ask a running agent for its last minutes, as a recording\n"
	       "  doctor    check that this machine can record, and say what to fix\n"
	       "  completions  print a shell completion script (make install installs them)\n"
	       "\n"
	       "Run 'pyflare COMMAND --help' (record, top, report, dump, agent, status,\n"
	       "snapshot) for the options.\n"
	       "Recording needs root, or CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE, and a\n"
	       "kernel >= 5.8 with BTF; dump only needs to read the processes (root or\n"
	       "CAP_SYS_PTRACE).\n");
}

/* The format names, wrapped to the help's second column. */
static void print_formats(void)
{
	char names[256], *p, *next;
	int col = 27;

	renderer_names(names, sizeof(names));
	printf("%27s", "");
	for (p = strtok_r(names, ", ", &next); p; p = strtok_r(NULL, ", ", &next)) {
		if (col > 27 && col + 2 + (int)strlen(p) > 79) {
			printf(",\n%27s", "");
			col = 27;
		} else if (col > 27) {
			printf(", ");
			col += 2;
		}
		col += printf("%s", p);
	}
	putchar('\n');
}

/* The options of the views, for both helps. */
static void print_view_help(void)
{
	printf("output:\n"
	       "  -o, --output FILE        write the report to FILE (atomically; - is stdout),\n"
	       "                           in the format its extension names (.svg,\n"
	       "                           .speedscope.json, .folded, ...; text for a name\n"
	       "                           without one; an unknown one is refused). Repeat -o\n"
	       "                           to write several formats at once (also --outfile)\n"
	       "  -r, --format FORMAT      the format of every -o: text (the default), flat\n"
	       "                           (the cProfile/pstats table of functions), svg (a\n"
	       "                           flame graph; also -r flamegraph), collapsed (also\n"
	       "                           py-spy's -r raw), or any of:\n");
	print_formats();
	printf("      --granularity G      function (default: one frame per function, as\n"
	       "                           pyinstrument) or line (one per line, as py-spy)\n"
	       "      --group-by KEY       process (default: each process apart), cmdline\n"
	       "                           (processes with the same arguments are one group:\n"
	       "                           20 gunicorn workers read as one service), container\n"
	       "                           (the same container, else the same cgroup) or none\n"
	       "                           (all in one); threads of a group merge by name.\n"
	       "                           A saved session (.pyflare) keeps every process\n"
	       "\n"
	       "what the call tree shows (text and the other tree views):\n"
	       "  library code (the process's stdlib, site-packages, dist-packages, <frozen>\n"
	       "  modules) is hidden: each run of it becomes one '[N frames hidden]  json, re'\n"
	       "  row below the call into it. A --show pattern wins over every hiding rule.\n"
	       "      --hide GLOB          also hide frames whose file matches GLOB ('*'\n"
	       "                           crosses '/': --hide '*/vendor/*'); repeatable\n"
	       "      --hide-regex RE      the same with a regex as Python's re writes it\n"
	       "                           (PCRE2: (?:a|b), \\d, \\w), found anywhere in the\n"
	       "                           path (anchor it with ^ and $)\n"
	       "      --show GLOB          always show frames whose file matches GLOB, e.g.\n"
	       "                           --show '*/site-packages/requests/*'; repeatable\n"
	       "      --show-regex RE      the same with a regex\n"
	       "      --show-all           hide nothing, library code included\n"
	       "  -t, --timeline           keep time order: children in the order they first\n"
	       "                           ran, a call repeated after another call is a new\n"
	       "                           row; speedscope gets evented profiles\n"
	       "  -p, --render-option KEY[=VALUE]\n"
	       "                           pyinstrument's render options: time=percent_of_total\n"
	       "                           (or seconds), filter_threshold=0.001 (hide rows under\n"
	       "                           this share of the process's time; default 0.01),\n"
	       "                           flat (text reports become -r flat), flat_time=self|\n"
	       "                           total, timeline, show_all, unicode, color,\n"
	       "                           hide_regex=RE, show_regex=RE\n"
	       "      --sort KEY           flat view order: self (default), total, name or file\n"
	       "                           (pstats' tottime, cumulative and filename work too)\n"
	       "      --collapsed-roots process,thread\n"
	       "                           lead each collapsed line with 'process PID (comm)'\n"
	       "                           and/or 'thread TID (name)' frames (default: none,\n"
	       "                           equal stacks of all threads and processes add up)\n"
	       "      --idle, --no-idle    wall mode: keep or drop the threads that did nothing\n"
	       "                           but wait (default: drop them, except each\n"
	       "                           process's main thread)\n"
	       "      --color, --no-color  ANSI colours in text reports (default: when stdout\n"
	       "                           is a terminal and NO_COLOR is not set)\n"
	       "      --unicode, --no-unicode\n"
	       "                           box-drawing characters or ASCII (default: unicode)\n");
}

/* The targets and process filters, for record's help (@render_options: -p takes them) and top's. */
static void print_target_help(bool render_options)
{
	printf("targets:\n");
	if (render_options)
		printf("  -p, --pid PID[,PID...]   attach to running processes (repeatable, at most\n"
		       "                           1024 in all). A -p value that does not start\n"
		       "                           with a digit is a render option, as\n"
		       "                           pyinstrument's:\n"
		       "                           -p time=percent_of_total\n");
	else
		printf("  -p, --pid PID[,PID...]   attach to running processes (repeatable, at most\n"
		       "                           1024 in all)\n");
	printf("  -s, --subprocesses       -p's processes and all their descendants: those\n"
	       "                           alive now (a gunicorn master's workers) and those\n"
	       "                           forked later, through fork and exec (py-spy's)\n");
	printf("  -a, --all                every Python process on the host\n"
	       "  -- COMMAND [ARGS...]     run COMMAND as the invoking user (SUDO_USER under\n"
	       "                           sudo) and profile it; its exit status is pyflare's\n"
	       "                           (exit status 5 when it is 0 but every process found\n"
	       "                           was refused, as an unsupported Python: nothing was\n"
	       "                           profiled)\n"
	       "      --container ID       only processes of the container whose id starts\n"
	       "                           with ID (docker, containerd, CRI-O, podman and\n"
	       "                           Kubernetes names; `docker ps` shows 12 digits)\n"
	       "      --cgroup PATH        only processes in the cgroup v2 folder PATH or below\n"
	       "                           it (/sys/fs/cgroup/system.slice/web.service, or\n"
	       "                           /system.slice/web.service as /proc/PID/cgroup says).\n"
	       "                           Both are repeatable, alone select like -a within\n"
	       "                           them, and are checked at every sample: a process\n"
	       "                           that moves in is found, one that moves out stops\n"
	       "                           counting\n"
	       "      --comm RE            only processes whose kernel name (/proc/PID/comm, 15\n"
	       "                           characters) matches RE (Python's re dialect)\n"
	       "      --cmdline RE         only processes whose arguments, joined by spaces,\n"
	       "                           match RE. Both are found anywhere (anchor with ^\n"
	       "                           and $), combine with each other and with -a or a\n"
	       "                           command (whose children are followed, and only\n"
	       "                           those that match profiled); a -p PID that does not\n"
	       "                           match is an error. They are checked when a process\n"
	       "                           is found, forks or execs: a forked worker is judged\n"
	       "                           by the cmdline it inherits, a later rename is not\n"
	       "                           seen\n"
	       "\n");
}

/* The sampling options, for record's and top's help. */
static void print_sampling_help(void)
{
	printf("sampling:\n"
	       "      --mode MODE          wall: on-CPU samples plus the time each thread\n"
	       "                           spends waiting, from the scheduler (sleep, I/O,\n"
	       "                           locks, the GIL), so times add up to wall-clock time\n"
	       "                           (default with a command or -p, as pyinstrument);\n"
	       "                           cpu: on-CPU samples only (default with -a,\n"
	       "                           --container, --cgroup)\n"
	       "      --min-block SECONDS  wall mode: waits shorter than this are added up in\n"
	       "                           the kernel rather than sent one by one (0.0001)\n"
	       "      --async              asyncio (CPython 3.14+): samples under the task\n"
	       "                           that ran (\"Task NAME\", below the tasks awaiting\n"
	       "                           it), the event loop's frames cut; in wall mode each\n"
	       "                           suspended task's time at its await line, ending in\n"
	       "                           [await sleep], [await Task NAME], [await gather] or\n"
	       "                           [await I/O]; before 3.14 a note says tasks need\n"
	       "                           3.14 and the recording goes on without them\n"
	       "  -d, --duration SECONDS   stop after this long (default, or unlimited: until\n"
	       "                           the end)\n"
	       "  -F, --rate HZ            samples per second per CPU (default %d with a\n"
	       "                           command, %d when attaching: each sample costs the\n"
	       "                           sampled CPU some microseconds)\n"
	       "  -i, --interval SECONDS   the same as a period, as in pyinstrument (-i 0.001)\n"
	       "      --nonblocking        a no-op, as pyflare never pauses a target (py-spy)\n"
	       "      --clock CLOCK        what takes the samples (default %s). timer: a\n"
	       "                           perf timer on every CPU at -F's rate, an interrupt\n"
	       "                           of its own; tick: the scheduler tick, which\n"
	       "                           interrupts a busy CPU anyway, at the kernel's rate\n"
	       "                           (CONFIG_HZ, 100 to 1000; no -F): sampling adds no\n"
	       "                           interrupt, but a CPU shared by busy tasks skews it\n"
	       "\n",
	       RATE_COMMAND_HZ, RATE_ATTACH_HZ, sample_clock_name(SAMPLE_CLOCK_DEFAULT));
}

void opts_print_record_help(void)
{
	printf("usage: pyflare record [options] -- COMMAND [ARGS...]\n"
	       "       pyflare record [options] -p PID[,PID...]\n"
	       "       pyflare record [options] -a\n"
	       "       pyflare record [options] --container ID | --cgroup PATH\n"
	       "\n"
	       "Sample the Python stacks of a command and its Python children, of running\n"
	       "processes, or of every Python process on the host, then print where the\n"
	       "time went. Recording stops at --duration, when the command or every target\n"
	       "exits, or on Ctrl-C / SIGTERM / SIGHUP, which the command gets too; the report\n"
	       "is written in every case (man pyflare: SIGNALS).\n"
	       "\n");
	print_target_help(true);
	print_sampling_help();
	print_view_help();
	printf("\n"
	       "  -q, --quiet              no progress line while recording\n"
	       "  -v, --verbose            more diagnostics (-vv: libbpf's too)\n"
	       "  -h, --help               this help\n"
	       "      --version            print the version\n"
	       "\n"
	       "examples:\n"
	       "  sudo pyflare record -- python3 app.py\n"
	       "  sudo pyflare record --show-all -p time=percent_of_total -- python3 app.py\n"
	       "  sudo pyflare record --show '*/site-packages/sqlalchemy/*' -- ./manage.py\n"
	       "  sudo pyflare record -r flat --sort total -- python3 app.py\n"
	       "  sudo pyflare record -t -o run.speedscope.json -- python3 app.py --port 8000\n"
	       "  sudo pyflare record -o - -o run.speedscope.json -o run.folded -- ./job.py\n"
	       "  sudo pyflare record -p 4242,4243 -d 30 -p filter_threshold=0.001\n"
	       "  sudo pyflare record -p $(pgrep -o gunicorn) --subprocesses -o web.svg\n"
	       "  sudo pyflare record -o profile.svg --pid 4242 --rate 100 --duration 30\n"
	       "  sudo pyflare record -a -d 10 -r collapsed --collapsed-roots process \\\n"
	       "      | flamegraph.pl > host.svg\n"
	       "  sudo pyflare record --granularity line -F 499 -p $(pgrep -f celery)\n"
	       "  sudo pyflare record -a -d 30 --comm 'gunicorn|celery'\n"
	       "  sudo pyflare record --container 3f9c2a -d 30 -o c.speedscope.json\n"
	       "  sudo pyflare record --cgroup /sys/fs/cgroup/system.slice/web.service -d 30\n"
	       "\n"
	       "The health line printed at the end (and stored in every output) adds up the\n"
	       "samples: taken = shown + lost (ring buffer full) + no thread state (process\n"
	       "start or exit, threads that run no Python) + no Python frame (the interpreter\n"
	       "in C: start-up, compiling the script, exit); then truncated stacks,\n"
	       "unreadable stacks, frames not symbolized (shown as <unsymbolized code 0x...>)\n"
	       "and the processes attached or refused, with the reason.\n"
	       "\n"
	       "From py-spy: -r is the format here and -F the rate (py-spy's -r 100 is -F 100),\n"
	       "-f is -r, --function is the default (--granularity function); the long\n"
	       "--pid, --rate, --duration, --format, --idle, --nonblocking and\n"
	       "--subprocesses are the same.\n");
}

void opts_print_report_help(void)
{
	printf("usage: pyflare report [options] FILE...\n"
	       "       pyflare report [options] --last\n"
	       "       pyflare report [options] DIR [--since TIME] [--until TIME]\n"
	       "\n"
	       "Show saved recordings (.pyflare sessions) again, combined, in any format and\n"
	       "with any of the view options: nothing is sampled. A folder stands for the\n"
	       "time slices `pyflare agent` wrote into it.\n"
	       "\n"
	       "      --last               the newest recording pyflare kept\n"
	       "      --since TIME         only the samples from TIME on: 10m, 2h, 1d (that\n"
	       "                           long ago), 03:05 or 03:05:30 (today, local time;\n"
	       "                           yesterday if later than now), 2026-12-06 03:05\n"
	       "                           (Z after it: UTC), @SECONDS (since the epoch)\n"
	       "      --until TIME         only the samples before TIME (the same forms, or\n"
	       "                           now)\n");
	print_view_help();
	printf("\n"
	       "  -v, --verbose            more diagnostics\n"
	       "  -h, --help               this help\n"
	       "      --version            print the version\n"
	       "\n"
	       "examples:\n"
	       "  pyflare report --last --show-all\n"
	       "  pyflare report run.pyflare -r flat --sort total\n"
	       "  pyflare report run.pyflare -t -o run.speedscope.json\n"
	       "  pyflare report a.pyflare b.pyflare -p time=percent_of_total \\\n"
	       "      --hide '*/tests/*'\n"
	       "  pyflare report /var/lib/pyflare --since 03:05 --until 03:20 -o night.html\n");
}

void opts_print_top_help(void)
{
	printf("usage: pyflare top [options] -- COMMAND [ARGS...]\n"
	       "       pyflare top [options] -p PID[,PID...]\n"
	       "       pyflare top [options] -a\n"
	       "       pyflare top [options] --container ID | --cgroup PATH\n"
	       "\n"
	       "Show live, as top does, the Python functions taking the time: one row per\n"
	       "function with its own and total time and the processes it ran in, refreshed\n"
	       "every --delay seconds, over the last interval or the whole run. On a terminal\n"
	       "it takes the screen (? lists the keys, q quits); piped, it prints one table\n"
	       "per interval until the targets exit, --duration passes or Ctrl-C. A command\n"
	       "reads no input there, and its output goes to pyflare's standard error, which\n"
	       "is shown when the screen is given back.\n"
	       "\n"
	       "OWN%% and TOTAL%% are shares of all the time shown: on CPU, and in wall mode\n"
	       "the waits too ([sleep], [lock], ...). When the recording ends by itself, the\n"
	       "whole run stays on the screen until q. q quits with status 0 and stops a\n"
	       "command still running (SIGTERM); one that ended gives its status, as with\n"
	       "record.\n"
	       "\n");
	print_target_help(false);
	print_sampling_help();
	printf("view:\n"
	       "      --delay SECONDS      between two refreshes (default 1)\n"
	       "      --granularity G      function (default) or line: a row per line\n"
	       "      --sort KEY           own (default), total, name or file\n"
	       "  -v, --verbose            more diagnostics\n"
	       "  -h, --help               this help\n"
	       "      --version            print the version\n"
	       "\n"
	       "keys:\n");
	for (const char *const *k = top_key_help; *k; k++)
		printf("  %s\n", *k);
	printf("\n"
	       "examples:\n"
	       "  sudo pyflare top -- python3 app.py\n"
	       "  sudo pyflare top -p $(pgrep -d, -f gunicorn)\n"
	       "  sudo pyflare top -p $(pgrep -o gunicorn) --subprocesses\n"
	       "  sudo pyflare top -a --comm 'celery|gunicorn'\n"
	       "  sudo pyflare top -a -d 60 --delay 5 > top.log\n");
}

void opts_print_dump_help(void)
{
	printf("usage: pyflare dump [options] -p PID[,PID...] [--subprocesses]\n"
	       "\n"
	       "Print the Python stack of every thread of running processes, as it is now,\n"
	       "blocked threads included (what a hung service is doing), without stopping\n"
	       "them: each thread's id and name, whether it holds the GIL, what it waits for\n"
	       "([lock], [GIL], [sleep], [I/O read], ...) or that it runs, and its frames,\n"
	       "innermost first, with file, line and the line's source text read from the\n"
	       "file as the process sees it (inside its container). The process runs on\n"
	       "while it is read: a thread whose frames kept changing is marked\n"
	       "\"(changing, best effort)\".\n"
	       "\n"
	       "  -p, --pid PID[,PID...]   the processes to read (repeatable)\n"
	       "  -s, --subprocesses       and every descendant of theirs that runs Python\n"
	       "      --json               one JSON document instead of text (docs/formats.md)\n"
	       "      --async              every asyncio task too (CPython 3.14+): name, state,\n"
	       "                           await line, what it awaits, the tasks awaiting it\n"
	       "                           (before 3.14: a note that tasks need 3.14)\n"
	       "      --color, --no-color  ANSI colours (default: when stdout is a terminal\n"
	       "                           and NO_COLOR is not set)\n"
	       "  -v, --verbose            more diagnostics\n"
	       "  -h, --help               this help\n"
	       "      --version            print the version\n"
	       "\n"
	       "Needs root or CAP_SYS_PTRACE (reading another process's memory). Exit status:\n"
	       "0 when every process was read, else that of the first that was not: 2 no\n"
	       "permission, 3 no such process, not Python or an unsupported Python.\n"
	       "\n"
	       "examples:\n"
	       "  sudo pyflare dump -p 4242\n"
	       "  sudo pyflare dump -p $(pgrep -o gunicorn) --subprocesses\n"
	       "  sudo pyflare dump -p $(pgrep -d, -f gunicorn) --json | jq .\n");
}

void opts_print_agent_help(void)
{
	printf("usage: pyflare agent [options]\n"
	       "\n"
	       "Profile every Python process of the host (or of the containers, cgroups or\n"
	       "names given) until SIGTERM or SIGINT, in bounded memory. Every --slice\n"
	       "seconds the samples of that slice are written into DIR as one session file,\n"
	       "slice-START-DURATION.pyflare (atomically), and let go; the oldest are removed\n"
	       "past --keep-for and --keep-size. The last --window seconds are also kept in\n"
	       "memory, for `pyflare snapshot`; SIGUSR1 writes them into DIR as a\n"
	       "snapshot-*.pyflare. A stop signal writes the slice under way, then the agent\n"
	       "exits 0. A slice it cannot write (a full or read-only disk) is counted, said\n"
	       "and let go: sampling goes on. `pyflare status` asks how it is doing, through\n"
	       "DIR/agent.sock (root only; one agent per DIR). See docs/agent.md.\n"
	       "\n"
	       "targets (default: every Python process, as -a):\n"
	       "  -a, --all                every Python process on the host\n"
	       "      --container ID       only processes of that container (repeatable)\n"
	       "      --cgroup PATH        only processes in that cgroup v2 folder or below\n"
	       "      --comm RE            only processes whose kernel name matches RE\n"
	       "      --cmdline RE         only processes whose arguments match RE\n"
	       "                           (see pyflare record --help for the details)\n"
	       "\n"
	       "sampling:\n"
	       "      --mode MODE          cpu (default): on-CPU samples; wall: the waits too\n"
	       "      --min-block SECONDS  wall mode: shorter waits are summed in the kernel\n"
	       "  -F, --rate HZ            samples per second per CPU (default %d)\n"
	       "  -i, --interval SECONDS   the same as a period\n"
	       "      --clock CLOCK        timer (default) or tick (the scheduler tick)\n"
	       "\n"
	       "files:\n"
	       "      --dir DIR            where the slices go (default %s as root,\n"
	       "                           else ~/.local/state/pyflare/agent); made 0700\n"
	       "      --slice SECONDS      the length of a slice (default %.0f; 5m, 1h too)\n"
	       "      --keep-for DURATION  remove slices that ended longer ago (default 24h;\n"
	       "                           90m, 7d; 0: no age limit)\n"
	       "      --keep-size SIZE     remove the oldest while DIR's slices and snapshots\n"
	       "                           take more (default 1G; 500M; 0: no size limit)\n"
	       "      --window SECONDS     the last seconds kept in memory for snapshots\n"
	       "                           (default %.0f; 0: none)\n"
	       "\n"
	       "push (docs/agent.md):\n"
	       "      --push URL           also send each slice, as pprof, to a Pyroscope server's\n"
	       "                           POST URL/ingest: one profile per application; plain\n"
	       "                           http://[USER[:PASSWORD]@]HOST[:PORT][/PATH] (https:\n"
	       "                           through a relay such as Grafana Alloy); the password\n"
	       "                           is better in $PYFLARE_PUSH_PASSWORD (and the user\n"
	       "                           in $PYFLARE_PUSH_USER); $PYFLARE_PUSH_TENANT is sent\n"
	       "                           as X-Scope-OrgID\n"
	       "      --group-by KEY       what one application is: cmdline (default: the\n"
	       "                           processes of one command line), process (one each,\n"
	       "                           a pid label), container, none (one for the host)\n"
	       "      --push-queue N       profiles waiting to be sent at most (default %d);\n"
	       "                           past it the oldest is dropped, counted\n"
	       "      --push-queue-size SIZE  their bytes at most (default 16M)\n"
	       "      --push-timeout SECONDS  for one request (default %.0f); a failed one is\n"
	       "                           tried again after 1, 2, 4, 8 s (5 tries), a 4xx not\n"
	       "      --push-otlp URL      not supported: OTLP profiles is still in development\n"
	       "\n"
	       "monitoring:\n"
	       "      --metrics ADDR       serve the health (as pyflare status) to Prometheus\n"
	       "                           on http://ADDR/metrics; ADDR is PORT or :PORT (on\n"
	       "                           127.0.0.1), HOST:PORT or [IPv6]:PORT; 0.0.0.0:PORT\n"
	       "                           for every interface. Off by default; the agent\n"
	       "                           exits 2 when it cannot listen there\n"
	       "\n"
	       "  -q, --quiet              warnings and errors only (the default)\n"
	       "  -v, --verbose            say each slice written (-vv: more)\n"
	       "  -h, --help               this help\n"
	       "      --version            print the version\n"
	       "\n"
	       "examples:\n"
	       "  pyflare agent\n"
	       "  pyflare agent --container 3f2a9c --slice 5m --keep-for 7d --keep-size 5G\n"
	       "  pyflare agent --metrics 9733      # curl http://127.0.0.1:9733/metrics\n"
	       "  pyflare report /var/lib/pyflare --since 03:05 --until 03:20 -o night.html\n"
	       "  pyflare agent --push http://pyroscope:4040 --group-by container\n",
	       RATE_ATTACH_HZ, AGENT_DIR_DEFAULT, AGENT_SLICE_DEFAULT, AGENT_WINDOW_DEFAULT,
	       PUSH_QUEUE_DEFAULT, PUSH_TIMEOUT_DEFAULT);
}

void opts_print_status_help(void)
{
	printf("usage: pyflare status [--dir DIR] [--json]\n"
	       "\n"
	       "Ask the agent running on DIR (default %s as root) how it is doing:\n"
	       "samples a second, samples lost, processes profiled, its memory and CPU, the\n"
	       "last slice written and the slices it could not write. Exit status 3 when no\n"
	       "agent answers.\n"
	       "\n"
	       "      --dir DIR            the agent's folder\n"
	       "      --json               one JSON object\n"
	       "  -h, --help               this help\n",
	       AGENT_DIR_DEFAULT);
}

void opts_print_snapshot_help(void)
{
	printf("usage: pyflare snapshot [--dir DIR] [--last SECONDS] [options]\n"
	       "\n"
	       "Ask the agent running on DIR (default %s as root) for the samples it\n"
	       "keeps in memory (its --window), up to now, and write them as any recording:\n"
	       "-o FILE... in the formats their extensions say (a .pyflare keeps the\n"
	       "session), text on stdout without -o.\n"
	       "\n"
	       "      --dir DIR            the agent's folder\n"
	       "      --last SECONDS       only the last SECONDS (default: the whole window)\n",
	       AGENT_DIR_DEFAULT);
	print_view_help();
	printf("\n"
	       "  -v, --verbose            more diagnostics\n"
	       "  -h, --help               this help\n"
	       "\n"
	       "examples:\n"
	       "  pyflare snapshot --last 60 -o incident.html -o incident.pyflare\n");
}
