/* SPDX-License-Identifier: MIT */
/* elf_file.h — symbols, sections and file-backed data of a possibly hostile ELF binary. */
#ifndef PYFLARE_ELF_FILE_H
#define PYFLARE_ELF_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest build ID kept; GNU ld writes 20 bytes (SHA-1), some toolchains 16 or 32. */
#define ELF_FILE_BUILD_ID_MAX 64

struct elf_file;

/* One PT_LOAD segment. */
struct elf_segment {
	uint64_t vaddr;
	uint64_t offset;
	uint64_t filesz; /* already clamped to p_memsz */
	uint64_t memsz;
};

/* Where a file's segments go: enough to place its mappings once the file is closed. */
#define ELF_PLACEMENT_MAX 16 /* real binaries have 2 to 6 */

struct elf_placement {
	int type; /* ET_EXEC or ET_DYN */
	uint32_t nr_loads;
	struct elf_segment loads[ELF_PLACEMENT_MAX];
};

/*
 * Opens an ELF executable or shared object (ET_EXEC or ET_DYN) and loads its section headers,
 * program headers, .symtab, .dynsym, .dynamic and build ID. Returns NULL with errno set:
 * ENOEXEC for anything not a usable ELF file, EISDIR/ENOENT/EACCES/... from the file system.
 * Keeps a file descriptor open for elf_file__read().
 */
struct elf_file *elf_file__open(const char *path);
/* The same for a file already open on @fd, which it takes over (closed on failure too). */
struct elf_file *elf_file__open_fd(int fd);
void elf_file__free(struct elf_file *e);

/* ET_EXEC or ET_DYN. */
int elf_file__type(const struct elf_file *e);

/*
 * Looks @name up in .symtab, then .dynsym; only defined symbols (st_shndx != SHN_UNDEF),
 * global or weak ones preferred over local ones of the same name. 0 or -ENOENT.
 * @value and @size may be NULL.
 */
int elf_file__symbol(const struct elf_file *e, const char *name, uint64_t *value, uint64_t *size);

/* Section @name (e.g. ".PyRuntime"): its sh_addr and sh_size. 0 or -ENOENT. */
int elf_file__section(const struct elf_file *e, const char *name, uint64_t *addr, uint64_t *size);

/*
 * Reads @len bytes of initialised data at link-time virtual address @vaddr from the file.
 * The range must lie in one PT_LOAD's p_filesz. -ENOENT if no PT_LOAD maps @vaddr, -EFAULT if
 * it is not backed by file bytes (.bss, past the end of a truncated file).
 */
int elf_file__read(const struct elf_file *e, uint64_t vaddr, void *buf, size_t len);

/*
 * For a mapping of this file at @map_start with file offset @map_offset (/proc/PID/maps),
 * stores in @bias what to add to a st_value to get its runtime address:
 * map_start - map_offset - (p_vaddr - p_offset) of the PT_LOAD holding @map_offset; 0 for
 * ET_EXEC. -ENOENT if no PT_LOAD covers @map_offset.
 *
 * When two PT_LOADs start in the same file page (small PIEs: the RW segment shares the page
 * of the read-only one before it), two mappings have the same offset and the lower PT_LOAD
 * is assumed. Pass the file's lowest-addressed mapping, which is always right.
 */
int elf_file__load_bias(const struct elf_file *e, uint64_t map_start, uint64_t map_offset,
			uint64_t *bias);

/*
 * Copies the file's segments into @p, for elf_placement_load_bias() after the file is
 * closed. -E2BIG when it has more than ELF_PLACEMENT_MAX of them.
 */
int elf_file__placement(const struct elf_file *e, struct elf_placement *p);

/* elf_file__load_bias() from a copy of the file's segments. */
int elf_placement_load_bias(const struct elf_placement *p, uint64_t map_start, uint64_t map_offset,
			    uint64_t *bias);

/* Whether a DT_NEEDED entry starts with @soname_prefix, e.g. "libpython3". */
bool elf_file__needs(const struct elf_file *e, const char *soname_prefix);

/*
 * Copies the NT_GNU_BUILD_ID descriptor into @buf; *@len is its capacity on entry and the
 * ID's length on return. -ENOENT if there is none, -ENOSPC (with *@len set) if @buf is short.
 */
int elf_file__build_id(const struct elf_file *e, unsigned char *buf, size_t *len);

#endif /* PYFLARE_ELF_FILE_H */
