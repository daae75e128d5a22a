/* SPDX-License-Identifier: MIT */
/*
 * version.h — what `pyflare --version` says: the release (VERSION) and the commit it was
 * built from, so that a bug report names the exact code.
 */
#ifndef PYFLARE_VERSION_H
#define PYFLARE_VERSION_H

/* Prints "pyflare VERSION (commit HASH)" on stdout. */
void version_print(void);

#endif /* PYFLARE_VERSION_H */
