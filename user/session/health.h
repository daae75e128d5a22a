/* SPDX-License-Identifier: MIT */
/*
 * health.h — the one-line summary of how well a recording went, shown on stderr at the
 * end and inside every report.
 */
#ifndef PYFLARE_HEALTH_H
#define PYFLARE_HEALTH_H

#include <stddef.h>

#include "session/session.h"

/*
 * "1,234 samples, 0 lost, 0 truncated, 0 unreadable, 0 unsymbolized; 2 processes
 * attached, 1 refused (4242 ruby: not a Python process)". Names are not sanitised here:
 * each renderer escapes the line for where it shows it.
 */
void health_format(const struct session *s, char *buf, size_t len);

#endif /* PYFLARE_HEALTH_H */
