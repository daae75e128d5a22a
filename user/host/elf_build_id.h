/* SPDX-License-Identifier: MIT */
/*
 * elf_build_id.h — the GNU build ID of an ELF file, read from its program headers alone:
 * a few small reads, so a file can be recognised before anything else of it is loaded.
 */
#ifndef PYFLARE_ELF_BUILD_ID_H
#define PYFLARE_ELF_BUILD_ID_H

#include <stddef.h>

/*
 * Copies the NT_GNU_BUILD_ID descriptor of the ELF file open on @fd into @buf; *@len is
 * its capacity on entry and the ID's length on return. Looks only in PT_NOTE segments
 * (where the loader and every linker put it). Returns 0, -ENOENT when there is none,
 * -ENOEXEC for a file that is not a well-formed ELF file of this machine's byte order,
 * -ENOSPC when @buf is too short, or -errno from reading.
 */
int elf_build_id_read(int fd, unsigned char *buf, size_t *len);

#endif /* PYFLARE_ELF_BUILD_ID_H */
