/* SPDX-License-Identifier: MIT */
/*
 * elf_build_id.c — the GNU build ID from the PT_NOTE segments: the ELF header, the program
 * headers and the notes, each read once and bounded, whatever the file claims.
 */
#include "host/elf_build_id.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PHDRS_LOOKED_AT 1024     /* a real file has a dozen; a hostile one, 65535 */
#define MAX_NOTE_SEGMENT (64u << 10) /* build IDs sit in small note segments */
#define PHDR_BATCH 32

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_DATA ELFDATA2LSB
#else
#define HOST_DATA ELFDATA2MSB
#endif

static int pread_exact(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	if (off > (uint64_t)INT64_MAX - len)
		return -ENOEXEC;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENOEXEC; /* shorter than its headers say */
		done += (size_t)n;
	}
	return 0;
}

/* The build ID among the notes of one segment, @align-aligned (4, or 8 for some). */
static int find_in_notes(const unsigned char *p, size_t size, size_t align, unsigned char *buf,
			 size_t *len)
{
	size_t off = 0;

	while (size - off >= 12) {
		uint32_t namesz, descsz, type;
		size_t name_at = off + 12, desc_at, next;

		memcpy(&namesz, p + off, 4);
		memcpy(&descsz, p + off + 4, 4);
		memcpy(&type, p + off + 8, 4);
		if (namesz > size - name_at)
			return -ENOENT;
		desc_at = name_at + ((namesz + align - 1) & ~(align - 1));
		if (desc_at > size || descsz > size - desc_at)
			return -ENOENT;
		next = desc_at + ((descsz + align - 1) & ~(align - 1));
		if (type == NT_GNU_BUILD_ID && namesz == sizeof(ELF_NOTE_GNU) && descsz > 0 &&
		    memcmp(p + name_at, ELF_NOTE_GNU, sizeof(ELF_NOTE_GNU)) == 0) {
			if (*len < descsz) {
				*len = descsz;
				return -ENOSPC;
			}
			memcpy(buf, p + desc_at, descsz);
			*len = descsz;
			return 0;
		}
		if (next <= off || next > size)
			return -ENOENT;
		off = next;
	}
	return -ENOENT;
}

struct note_segment {
	uint64_t offset, size, align;
};

/* The next PT_NOTE among the program headers, from *@index on. */
static int next_note(int fd, bool is64, uint64_t phoff, size_t count, uint64_t file_size,
		     size_t *index, struct note_segment *out)
{
	union {
		Elf64_Phdr p64[PHDR_BATCH];
		Elf32_Phdr p32[PHDR_BATCH];
	} batch;
	size_t entsize = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);

	while (*index < count) {
		size_t n = count - *index < PHDR_BATCH ? count - *index : PHDR_BATCH;
		size_t first = *index;
		int err = pread_exact(fd, &batch, n * entsize, phoff + first * entsize);

		if (err)
			return err;
		for (size_t i = 0; i < n; i++) {
			uint32_t type = is64 ? batch.p64[i].p_type : batch.p32[i].p_type;

			*index = first + i + 1;
			if (type != PT_NOTE)
				continue;
			out->offset = is64 ? batch.p64[i].p_offset : batch.p32[i].p_offset;
			out->size = is64 ? batch.p64[i].p_filesz : batch.p32[i].p_filesz;
			out->align =
				(is64 ? batch.p64[i].p_align : batch.p32[i].p_align) == 8 ? 8 : 4;
			if (out->size < 12 || out->size > MAX_NOTE_SEGMENT ||
			    out->offset > file_size || out->size > file_size - out->offset)
				continue;
			return 0;
		}
	}
	return -ENOENT;
}

int elf_build_id_read(int fd, unsigned char *buf, size_t *len)
{
	union {
		unsigned char ident[EI_NIDENT];
		Elf64_Ehdr e64;
		Elf32_Ehdr e32;
	} h;
	static unsigned char notes[MAX_NOTE_SEGMENT]; /* too big for the stack; one thread */
	struct note_segment seg;
	uint64_t phoff, file_size;
	size_t phnum, phent, index = 0;
	struct stat st;
	bool is64;
	int err;

	if (!len || (!buf && *len))
		return -EINVAL;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOEXEC;
	file_size = (uint64_t)st.st_size;
	err = pread_exact(fd, h.ident, EI_NIDENT, 0);
	if (err)
		return err;
	if (memcmp(h.ident, ELFMAG, SELFMAG) != 0 || h.ident[EI_DATA] != HOST_DATA ||
	    (h.ident[EI_CLASS] != ELFCLASS32 && h.ident[EI_CLASS] != ELFCLASS64))
		return -ENOEXEC;
	is64 = h.ident[EI_CLASS] == ELFCLASS64;
	err = pread_exact(fd, &h, is64 ? sizeof(h.e64) : sizeof(h.e32), 0);
	if (err)
		return err;
	phoff = is64 ? h.e64.e_phoff : h.e32.e_phoff;
	phnum = is64 ? h.e64.e_phnum : h.e32.e_phnum;
	phent = is64 ? h.e64.e_phentsize : h.e32.e_phentsize;
	if (phoff == 0 || phnum == 0)
		return -ENOENT;
	if (phent != (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
		return -ENOEXEC;
	if (phnum > MAX_PHDRS_LOOKED_AT)
		phnum = MAX_PHDRS_LOOKED_AT;
	if (phoff > file_size || phnum * phent > file_size - phoff)
		return -ENOEXEC;
	while ((err = next_note(fd, is64, phoff, phnum, file_size, &index, &seg)) == 0) {
		err = pread_exact(fd, notes, (size_t)seg.size, seg.offset);
		if (err)
			return err;
		err = find_in_notes(notes, (size_t)seg.size, (size_t)seg.align, buf, len);
		if (err != -ENOENT)
			return err;
	}
	return err;
}
