/* SPDX-License-Identifier: MIT */
/* elf_file.c — bounded lookups in ELF files that may come from hostile container images. */

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/elf_file.h"

/* Caps on what a hostile file can make us (or libelf) allocate and walk. */
#define ELF_MAX_SECTIONS (1u << 18)
#define ELF_MAX_PHDRS (1u << 16)
#define ELF_MAX_LOADS 64
#define ELF_MAX_TABLE (256ull << 20) /* one symbol, string, dynamic or note section */

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ELF_HOST_DATA ELFDATA2LSB
#else
#define ELF_HOST_DATA ELFDATA2MSB
#endif

struct elf_section {
	uint64_t addr;
	uint64_t offset;
	uint64_t size;
	uint32_t name;
	uint32_t type;
	uint32_t link;
};

struct elf_symtab {
	Elf_Data *syms; /* NULL when the table is absent or unusable */
	size_t count;
	const char *strs;
	size_t strs_size; /* through the last NUL: any index below starts a C string */
};

struct elf_file {
	int fd;
	Elf *elf;
	uint64_t file_size;
	int type;

	struct elf_segment loads[ELF_MAX_LOADS];
	size_t nr_loads;

	struct elf_section *secs;
	size_t nr_secs;
	const char *shstrs;
	size_t shstrs_size;

	struct elf_symtab symtab;
	struct elf_symtab dynsym;

	Elf_Data *dynamic;
	size_t nr_dyn;
	const char *dynstr;
	size_t dynstr_size;

	unsigned char build_id[ELF_FILE_BUILD_ID_MAX];
	size_t build_id_len;
};

/* Header fields, with extended numbering resolved, checked before libelf sees the file. */
struct elf_counts {
	size_t phnum;
	size_t shnum;
	size_t shstrndx;
};

static bool range_ok(uint64_t off, uint64_t len, uint64_t limit)
{
	return off <= limit && len <= limit - off;
}

static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	if (len > INT64_MAX || off > (uint64_t)INT64_MAX - len)
		return -EFAULT;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EFAULT; /* the file shrank under us */
		done += n;
	}
	return 0;
}

/*
 * libelf sizes its allocations from e_shnum/e_phnum and reads tables lazily, so check that
 * the header describes tables that fit in the file before handing it over.
 */
static int check_header(int fd, uint64_t file_size, struct elf_counts *c)
{
	union {
		unsigned char ident[EI_NIDENT];
		Elf32_Ehdr e32;
		Elf64_Ehdr e64;
	} h;
	union {
		Elf32_Shdr s32;
		Elf64_Shdr s64;
	} s0;
	uint64_t phoff, shoff, phent, shent, phnum, shnum, shstrndx;
	size_t ehsize, want_phent, want_shent;
	bool is64;
	uint16_t type;

	if (file_size < EI_NIDENT || pread_full(fd, h.ident, EI_NIDENT, 0))
		return -ENOEXEC;
	if (memcmp(h.ident, ELFMAG, SELFMAG) != 0 || h.ident[EI_DATA] != ELF_HOST_DATA ||
	    h.ident[EI_VERSION] != EV_CURRENT)
		return -ENOEXEC;
	if (h.ident[EI_CLASS] != ELFCLASS32 && h.ident[EI_CLASS] != ELFCLASS64)
		return -ENOEXEC;

	is64 = h.ident[EI_CLASS] == ELFCLASS64;
	ehsize = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	if (file_size < ehsize || pread_full(fd, &h, ehsize, 0))
		return -ENOEXEC;

	if (is64) {
		type = h.e64.e_type;
		phoff = h.e64.e_phoff;
		shoff = h.e64.e_shoff;
		phent = h.e64.e_phentsize;
		shent = h.e64.e_shentsize;
		phnum = h.e64.e_phnum;
		shnum = h.e64.e_shnum;
		shstrndx = h.e64.e_shstrndx;
		want_phent = sizeof(Elf64_Phdr);
		want_shent = sizeof(Elf64_Shdr);
	} else {
		type = h.e32.e_type;
		phoff = h.e32.e_phoff;
		shoff = h.e32.e_shoff;
		phent = h.e32.e_phentsize;
		shent = h.e32.e_shentsize;
		phnum = h.e32.e_phnum;
		shnum = h.e32.e_shnum;
		shstrndx = h.e32.e_shstrndx;
		want_phent = sizeof(Elf32_Phdr);
		want_shent = sizeof(Elf32_Shdr);
	}
	if (type != ET_EXEC && type != ET_DYN)
		return -ENOEXEC;

	if (shoff == 0) {
		if (shnum != 0)
			return -ENOEXEC;
		shstrndx = SHN_UNDEF;
	} else {
		if (shent != want_shent || !range_ok(shoff, want_shent, file_size))
			return -ENOEXEC;
		/* Counts too big for the header live in section 0. */
		if (shnum == 0 || phnum == PN_XNUM || shstrndx == SHN_XINDEX) {
			if (pread_full(fd, &s0, want_shent, shoff))
				return -ENOEXEC;
			if (shnum == 0)
				shnum = is64 ? s0.s64.sh_size : s0.s32.sh_size;
			if (phnum == PN_XNUM)
				phnum = is64 ? s0.s64.sh_info : s0.s32.sh_info;
			if (shstrndx == SHN_XINDEX)
				shstrndx = is64 ? s0.s64.sh_link : s0.s32.sh_link;
		}
		if (shnum == 0 || shnum > ELF_MAX_SECTIONS ||
		    !range_ok(shoff, shnum * want_shent, file_size))
			return -ENOEXEC;
		if (shstrndx >= shnum)
			shstrndx = SHN_UNDEF; /* usable, just without section names */
	}

	/* Without program headers there is nothing to map, read or relocate. */
	if (phoff == 0 || phnum == 0 || phnum > ELF_MAX_PHDRS || phent != want_phent ||
	    !range_ok(phoff, phnum * want_phent, file_size))
		return -ENOEXEC;

	c->phnum = phnum;
	c->shnum = shnum;
	c->shstrndx = shstrndx;
	return 0;
}

/* Raw or converted contents of section @idx, its size checked against the file first. */
static Elf_Data *section_data(const struct elf_file *e, size_t idx)
{
	const struct elf_section *s;
	Elf_Data *data;
	Elf_Scn *scn;

	if (idx == SHN_UNDEF || idx >= e->nr_secs)
		return NULL;
	s = &e->secs[idx];
	if (s->type == SHT_NOBITS || s->size == 0 || s->size > ELF_MAX_TABLE ||
	    !range_ok(s->offset, s->size, e->file_size))
		return NULL;
	scn = elf_getscn(e->elf, idx);
	if (!scn)
		return NULL;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf || data->d_size == 0)
		return NULL;
	return data;
}

static int load_strtab(const struct elf_file *e, size_t idx, const char **strs, size_t *size)
{
	const char *last;
	Elf_Data *data;

	if (idx >= e->nr_secs || e->secs[idx].type != SHT_STRTAB)
		return -ENOEXEC;
	data = section_data(e, idx);
	if (!data)
		return -ENOEXEC;
	/* Names past the last NUL would run off the end; treat them as out of range. */
	last = memrchr(data->d_buf, '\0', data->d_size);
	if (!last)
		return -ENOEXEC;
	*strs = data->d_buf;
	*size = (size_t)(last - (const char *)data->d_buf) + 1;
	return 0;
}

static void load_symtab(struct elf_file *e, size_t idx, struct elf_symtab *t)
{
	Elf_Data *data = section_data(e, idx);
	size_t entsize = gelf_fsize(e->elf, ELF_T_SYM, 1, EV_CURRENT);

	if (!data || data->d_type != ELF_T_SYM || entsize == 0)
		return;
	if (load_strtab(e, e->secs[idx].link, &t->strs, &t->strs_size))
		return;
	t->count = data->d_size / entsize;
	if (t->count > INT_MAX)
		t->count = INT_MAX; /* gelf_getsym() takes an int; unreachable anyway */
	t->syms = data;
}

static void load_dynamic(struct elf_file *e, size_t idx)
{
	Elf_Data *data = section_data(e, idx);
	size_t entsize = gelf_fsize(e->elf, ELF_T_DYN, 1, EV_CURRENT);

	if (!data || data->d_type != ELF_T_DYN || entsize == 0)
		return;
	if (load_strtab(e, e->secs[idx].link, &e->dynstr, &e->dynstr_size))
		return;
	e->nr_dyn = data->d_size / entsize;
	if (e->nr_dyn > INT_MAX)
		e->nr_dyn = INT_MAX;
	e->dynamic = data;
}

/* Returns true once a GNU build ID has been found in section @idx. */
static bool load_build_id(struct elf_file *e, size_t idx)
{
	Elf_Data *data = section_data(e, idx);
	size_t off = 0, next, name_off, desc_off;
	GElf_Nhdr nh;

	if (!data || (data->d_type != ELF_T_NHDR && data->d_type != ELF_T_NHDR8))
		return false;
	while (off < data->d_size &&
	       (next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > off) {
		const unsigned char *p = data->d_buf;

		off = next;
		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != sizeof(ELF_NOTE_GNU) ||
		    nh.n_descsz == 0 || nh.n_descsz > ELF_FILE_BUILD_ID_MAX)
			continue;
		if (!range_ok(name_off, nh.n_namesz, data->d_size) ||
		    !range_ok(desc_off, nh.n_descsz, data->d_size))
			continue;
		if (memcmp(p + name_off, ELF_NOTE_GNU, sizeof(ELF_NOTE_GNU)) != 0)
			continue;
		memcpy(e->build_id, p + desc_off, nh.n_descsz);
		e->build_id_len = nh.n_descsz;
		return true;
	}
	return false;
}

static int load_phdrs(struct elf_file *e, const struct elf_counts *c)
{
	size_t n, i;

	if (elf_getphdrnum(e->elf, &n) || n != c->phnum)
		return -ENOEXEC;
	for (i = 0; i < n; i++) {
		struct elf_segment *l;
		GElf_Phdr ph;

		if (!gelf_getphdr(e->elf, (int)i, &ph))
			return -ENOEXEC;
		if (ph.p_type != PT_LOAD)
			continue;
		if (e->nr_loads == ELF_MAX_LOADS)
			return -ENOEXEC;
		l = &e->loads[e->nr_loads++];
		l->vaddr = ph.p_vaddr;
		l->offset = ph.p_offset;
		l->memsz = ph.p_memsz;
		l->filesz = ph.p_filesz < ph.p_memsz ? ph.p_filesz : ph.p_memsz;
	}
	return e->nr_loads ? 0 : -ENOEXEC;
}

static int load_sections(struct elf_file *e, const struct elf_counts *c)
{
	bool have_build_id = false;
	size_t n, i;

	if (c->shnum == 0)
		return 0;
	if (elf_getshdrnum(e->elf, &n) || n != c->shnum)
		return -ENOEXEC;
	e->secs = calloc(n, sizeof(*e->secs));
	if (!e->secs)
		return -ENOMEM;
	e->nr_secs = n;
	for (i = 0; i < n; i++) {
		Elf_Scn *scn = elf_getscn(e->elf, i);
		GElf_Shdr sh;

		if (!scn || !gelf_getshdr(scn, &sh))
			return -ENOEXEC;
		e->secs[i] = (struct elf_section){
			.addr = sh.sh_addr,
			.offset = sh.sh_offset,
			.size = sh.sh_size,
			.name = sh.sh_name,
			.type = sh.sh_type,
			.link = sh.sh_link,
		};
	}

	/* Broken optional tables are left out rather than failing the open. */
	if (c->shstrndx != SHN_UNDEF && load_strtab(e, c->shstrndx, &e->shstrs, &e->shstrs_size)) {
		e->shstrs = NULL;
		e->shstrs_size = 0;
	}
	for (i = 1; i < n; i++) {
		switch (e->secs[i].type) {
		case SHT_SYMTAB:
			if (!e->symtab.syms)
				load_symtab(e, i, &e->symtab);
			break;
		case SHT_DYNSYM:
			if (!e->dynsym.syms)
				load_symtab(e, i, &e->dynsym);
			break;
		case SHT_DYNAMIC:
			if (!e->dynamic)
				load_dynamic(e, i);
			break;
		case SHT_NOTE:
			if (!have_build_id)
				have_build_id = load_build_id(e, i);
			break;
		}
	}
	return 0;
}

struct elf_file *elf_file__open(const char *path)
{
	int fd;

	if (!path) {
		errno = EINVAL;
		return NULL;
	}
	/* O_NONBLOCK: a FIFO planted under a library's name must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return NULL;
	return elf_file__open_fd(fd);
}

struct elf_file *elf_file__open_fd(int fd)
{
	struct elf_counts counts;
	struct elf_file *e;
	GElf_Ehdr eh;
	struct stat st;
	int err;

	e = calloc(1, sizeof(*e));
	if (!e) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	e->fd = fd;
	if (fstat(e->fd, &st)) {
		err = -errno;
		goto err;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto err;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
		err = -ENOEXEC;
		goto err;
	}
	e->file_size = (uint64_t)st.st_size;

	err = check_header(e->fd, e->file_size, &counts);
	if (err)
		goto err;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		err = -ENOEXEC;
		goto err;
	}
	/* ELF_C_READ: libelf preads only what we ask for, into its own memory (no SIGBUS). */
	e->elf = elf_begin(e->fd, ELF_C_READ, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || !gelf_getehdr(e->elf, &eh)) {
		err = -ENOEXEC;
		goto err;
	}
	e->type = eh.e_type;
	if (e->type != ET_EXEC && e->type != ET_DYN) {
		err = -ENOEXEC;
		goto err;
	}

	err = load_phdrs(e, &counts);
	if (err)
		goto err;
	err = load_sections(e, &counts);
	if (err)
		goto err;

	/* Everything libelf will ever hand out is in memory now; later calls do no I/O there. */
	elf_cntl(e->elf, ELF_C_FDDONE);
	return e;

err:
	elf_file__free(e);
	errno = -err;
	return NULL;
}

void elf_file__free(struct elf_file *e)
{
	if (!e)
		return;
	elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
	free(e->secs);
	free(e);
}

int elf_file__type(const struct elf_file *e)
{
	return e ? e->type : -EINVAL;
}

static int symtab_find(const struct elf_symtab *t, const char *name, GElf_Sym *out)
{
	bool found = false;
	size_t i;

	if (!t->syms)
		return -ENOENT;
	for (i = 1; i < t->count; i++) {
		GElf_Sym sym;

		if (!gelf_getsym(t->syms, (int)i, &sym))
			break;
		if (sym.st_shndx == SHN_UNDEF || sym.st_name == 0 || sym.st_name >= t->strs_size)
			continue;
		if (strcmp(t->strs + sym.st_name, name) != 0)
			continue;
		if (GELF_ST_BIND(sym.st_info) != STB_LOCAL) {
			*out = sym;
			return 0;
		}
		if (!found) {
			*out = sym;
			found = true;
		}
	}
	return found ? 0 : -ENOENT;
}

int elf_file__symbol(const struct elf_file *e, const char *name, uint64_t *value, uint64_t *size)
{
	GElf_Sym sym;

	if (!e || !name || !*name)
		return -EINVAL;
	if (symtab_find(&e->symtab, name, &sym) && symtab_find(&e->dynsym, name, &sym))
		return -ENOENT;
	if (value)
		*value = sym.st_value;
	if (size)
		*size = sym.st_size;
	return 0;
}

int elf_file__section(const struct elf_file *e, const char *name, uint64_t *addr, uint64_t *size)
{
	size_t i;

	if (!e || !name)
		return -EINVAL;
	for (i = 1; i < e->nr_secs; i++) {
		const struct elf_section *s = &e->secs[i];

		if (s->name >= e->shstrs_size || strcmp(e->shstrs + s->name, name) != 0)
			continue;
		if (addr)
			*addr = s->addr;
		if (size)
			*size = s->size;
		return 0;
	}
	return -ENOENT;
}

int elf_file__read(const struct elf_file *e, uint64_t vaddr, void *buf, size_t len)
{
	bool mapped = false;
	size_t i;

	if (!e || (!buf && len))
		return -EINVAL;
	for (i = 0; i < e->nr_loads; i++) {
		const struct elf_segment *l = &e->loads[i];
		uint64_t delta;

		if (vaddr < l->vaddr || vaddr - l->vaddr >= l->memsz)
			continue;
		mapped = true;
		delta = vaddr - l->vaddr;
		if (!range_ok(delta, len, l->filesz) || delta > UINT64_MAX - l->offset ||
		    !range_ok(l->offset + delta, len, e->file_size))
			continue;
		return pread_full(e->fd, buf, len, l->offset + delta);
	}
	return mapped ? -EFAULT : -ENOENT;
}

/*
 * The kernel maps each PT_LOAD from its page-aligned offset, and the last page of one
 * segment may share a file page with the first of the next: prefer the segment whose
 * mapping starts exactly at @map_offset, else the one containing it.
 */
static int load_bias(const struct elf_segment *loads, size_t n, int type, uint64_t map_start,
		     uint64_t map_offset, uint64_t *bias)
{
	const struct elf_segment *hit = NULL;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t mask = page > 0 ? (uint64_t)page - 1 : 4095;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct elf_segment *l = &loads[i];
		uint64_t start = l->offset & ~mask;

		if (l->filesz == 0 || map_offset < start)
			continue;
		if (map_offset == start) {
			hit = l;
			break;
		}
		if (!hit && (map_offset < l->offset || map_offset - l->offset < l->filesz))
			hit = l;
	}
	if (!hit)
		return -ENOENT;
	*bias = type == ET_EXEC ? 0 : map_start - map_offset - (hit->vaddr - hit->offset);
	return 0;
}

int elf_file__load_bias(const struct elf_file *e, uint64_t map_start, uint64_t map_offset,
			uint64_t *bias)
{
	if (!e || !bias)
		return -EINVAL;
	return load_bias(e->loads, e->nr_loads, e->type, map_start, map_offset, bias);
}

int elf_file__placement(const struct elf_file *e, struct elf_placement *p)
{
	if (!e || !p)
		return -EINVAL;
	if (e->nr_loads > ELF_PLACEMENT_MAX)
		return -E2BIG;
	p->type = e->type;
	p->nr_loads = (uint32_t)e->nr_loads;
	memcpy(p->loads, e->loads, e->nr_loads * sizeof(e->loads[0]));
	return 0;
}

int elf_placement_load_bias(const struct elf_placement *p, uint64_t map_start, uint64_t map_offset,
			    uint64_t *bias)
{
	if (!p || !bias || p->nr_loads > ELF_PLACEMENT_MAX)
		return -EINVAL;
	return load_bias(p->loads, p->nr_loads, p->type, map_start, map_offset, bias);
}

bool elf_file__needs(const struct elf_file *e, const char *soname_prefix)
{
	size_t i, plen;

	if (!e || !soname_prefix || !e->dynamic)
		return false;
	plen = strlen(soname_prefix);
	for (i = 0; i < e->nr_dyn; i++) {
		GElf_Dyn d;

		if (!gelf_getdyn(e->dynamic, (int)i, &d) || d.d_tag == DT_NULL)
			break;
		if (d.d_tag != DT_NEEDED || d.d_un.d_val >= e->dynstr_size)
			continue;
		if (strncmp(e->dynstr + d.d_un.d_val, soname_prefix, plen) == 0)
			return true;
	}
	return false;
}

int elf_file__build_id(const struct elf_file *e, unsigned char *buf, size_t *len)
{
	if (!e || !len || (!buf && *len))
		return -EINVAL;
	if (!e->build_id_len)
		return -ENOENT;
	if (*len < e->build_id_len) {
		*len = e->build_id_len;
		return -ENOSPC;
	}
	memcpy(buf, e->build_id, e->build_id_len);
	*len = e->build_id_len;
	return 0;
}
