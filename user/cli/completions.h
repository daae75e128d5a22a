/* SPDX-License-Identifier: MIT */
/*
 * completions.h — shell completion scripts for bash, zsh and fish, written from the option
 * tables the command line is parsed with (`pyflare completions SHELL`).
 */
#ifndef PYFLARE_COMPLETIONS_H
#define PYFLARE_COMPLETIONS_H

#include <stdio.h>

/* Writes @shell's ("bash", "zsh", "fish") completion script to @out: 0, or -1 for another shell. */
int completions_print(const char *shell, FILE *out);

#endif /* PYFLARE_COMPLETIONS_H */
