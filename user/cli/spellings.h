/* SPDX-License-Identifier: MIT */
/*
 * spellings.h — what py-spy's and pyinstrument's users type, read as pyflare's options or
 * answered with what to type instead. The accepted aliases themselves are rows of the
 * option tables in opts.c; this holds the names of formats and the hints.
 */
#ifndef PYFLARE_SPELLINGS_H
#define PYFLARE_SPELLINGS_H

#include <stdbool.h>
#include <stddef.h>

/* The commands a hint is given for. */
enum spelling_command {
	SPELLING_RECORD = 1 << 0,
	SPELLING_TOP = 1 << 1,
	SPELLING_REPORT = 1 << 2,
	SPELLING_DUMP = 1 << 3,
};

/* pyflare's name of py-spy's format @name (flamegraph: svg, raw: collapsed); else @name. */
const char *spelling_format(const char *name);

/*
 * A format @name given to @command that is a peer's meaning of -r (py-spy's rate: -r 100) or
 * a format pyflare has under no name (chrometrace): writes what to type instead into @buf
 * and returns true.
 */
bool spelling_format_refusal(const char *name, enum spelling_command command, char *buf,
			     size_t len);

/*
 * An unknown option @opt ("--gil", "-f"), followed on the command line by @next (or NULL),
 * given to @command: writes what to type instead into @buf and returns true, or false when
 * it is no peer's spelling.
 */
bool spelling_hint(const char *opt, const char *next, enum spelling_command command, char *buf,
		   size_t len);

/* The argument of -p that is no PID but the next option: `-p $(pgrep x)` found nothing. */
bool spelling_empty_pid(const char *arg);

#endif /* PYFLARE_SPELLINGS_H */
