/* SPDX-License-Identifier: MIT */
/* linetable.h — map an instruction position to a source line, as CPython 3.8–3.15 does. */
#ifndef PYFLARE_LINETABLE_H
#define PYFLARE_LINETABLE_H

#include <stddef.h>

/*
 * Returns the line of the instruction at @addr in a code object whose line table is
 * @table/@len and whose co_firstlineno is @firstlineno, for CPython 3.@minor; or -1 when
 * the table says the instruction has no line (or the table is malformed / addr out of range).
 * @addr units: 3.8/3.9: byte offset (PyFrameObject.f_lasti);
 *              3.10: code units (f_lasti, 2-byte units: bpo-27129);
 *              3.11+: code units from the start of co_code_adaptive (bpo-46841).
 * In every version @addr == -1 is a frame that has not started: that returns @firstlineno,
 * as PyCode_Addr2Line does; any other negative @addr returns -1. Line 0 is a real answer
 * (3.11+ module code starts with a RESUME on line 0, gh-94485), and 3.8/3.9 tables cannot
 * mark a position as lineless, so there an @addr past the code gets the last line.
 *
 * The table is untrusted: every read is bounded by @len and the work is linear in @len.
 * A @minor outside 8..14 returns -1: an unknown format is not guessed at.
 */
int linetable_line(int minor, const unsigned char *table, size_t len, int firstlineno, int addr);

#endif /* PYFLARE_LINETABLE_H */
