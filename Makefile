# SPDX-License-Identifier: MIT
# The one build entry point. `make demo` and `make test` work on a fresh Debian 12 machine:
# both install what is missing first (scripts/deps.sh, needs root or sudo).

BUILD      ?= build
PREFIX     ?= /usr/local
# make predefines CC (as cc), so `CC ?= gcc` would never apply: gcc unless CC is given
ifeq ($(origin CC),default)
CC         := gcc
endif
CLANG      ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL    ?= bpftool
PYTHON     ?= /usr/bin/python3
V          ?= 0

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

VERSION    := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
ARCH       := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

# PCRE2 for the users' regexes (Python's dialect); pkg-config's answer, Debian's when none yet
PCRE2_CFLAGS := $(shell pkg-config --cflags libpcre2-8 2>/dev/null)
PCRE2_LIBS   := $(shell pkg-config --libs libpcre2-8 2>/dev/null || echo -lpcre2-8)
# CFLAGS is the builder's (make CFLAGS=-O0); what the code needs to build is in
# PYFLARE_CFLAGS, which CFLAGS given on the command line or in the environment cannot replace.
CFLAGS     ?= -g -O2
PYFLARE_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
              -DPYFLARE_VERSION='"$(VERSION)"' -Iuser -Ibpf -I$(BUILD) -MMD -MP \
              $(PCRE2_CFLAGS)
ALL_CFLAGS  = $(PYFLARE_CFLAGS) $(CFLAGS)
LDLIBS     := -lbpf -lelf -lz -lm $(PCRE2_LIBS)
# The unit tests read back what the renderers write with cJSON; pyflare itself writes JSON
# with lib/json.c and links no JSON library.
TEST_LDLIBS := $(LDLIBS) -lcjson
# clang -target bpf searches no system folder of the host: give it those clang searches for
# the host (as libbpf-bootstrap does), the multiarch one with <asm/types.h> among them. Asked
# when a BPF object is built, so that `make deps` has installed clang by then.
BPF_SYS_INCLUDES ?= $(shell $(CLANG) -v -E - </dev/null 2>&1 | \
	sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS  = -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf \
              $(BPF_SYS_INCLUDES) -MMD -MP
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# The bench hooks (bench_hooks.c) are built into the bench binary only: see "bench build".
BENCH_SRCS := user/record/bench_hooks.c
USER_SRCS  := $(wildcard user/*/*.c)
LIB_SRCS   := $(filter-out user/cli/main.c $(BENCH_SRCS),$(USER_SRCS))
LIB_OBJS   := $(patsubst user/%.c,$(BUILD)/user/%.o,$(LIB_SRCS))
SAN_OBJS   := $(patsubst user/%.c,$(BUILD)/asan/user/%.o,$(LIB_SRCS))
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/%,$(UNIT_SRCS))
BPFT_SRCS  := $(wildcard tests/bpf/test_*.c)
BPFT_BINS  := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(BPFT_SRCS))

.PHONY: FORCE all static old-root deps demo test format format-check unit-test bpf-test functional-test asan install clean sid-root check-tools bench bench-quick bench-soak \
        bench-binary test-tools
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/pyflare

deps:
	$(Q)scripts/deps.sh

# --- BPF object and skeletons -------------------------------------------------------------
# Each object loses its DWARF before a skeleton embeds it (llvm-strip -g): the kernel needs
# only its BTF (.BTF, .BTF.ext: types, CO-RE relocations, line info), which stays.

$(BUILD)/%.bpf.o: bpf/%.bpf.c | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(BUILD)/tests/bpf/%.bpf.o: tests/bpf/%.bpf.c | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/tests/bpf/%.skel.h: $(BUILD)/tests/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# --- userspace ----------------------------------------------------------------------------

# The objects that include the skeleton: it must exist before they are compiled.
SKEL_USERS := $(filter-out record/bench_hooks,$(patsubst user/%.c,%,\
		$(shell grep -l '"pyflare.skel.h"' user/*/*.c)))
$(foreach u,$(SKEL_USERS),$(BUILD)/user/$(u).o $(BUILD)/asan/user/$(u).o): $(BUILD)/pyflare.skel.h

# The HTML report's page, script and style, compiled in (xxd -i), and the script's hash for the
# page's Content-Security-Policy, which lets only that script run; the SVG flame graph's script.
HTML_ASSETS := html/report.html html/report.css html/report.js html/flamegraph.js

$(BUILD)/html_assets.h: $(HTML_ASSETS) | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)command -v xxd >/dev/null || { echo "xxd is missing: run make deps" >&2; exit 1; }
	$(Q){ for f in $(notdir $(HTML_ASSETS)); do (cd html && xxd -i $$f); done | \
	      sed 's/^unsigned/static const unsigned/'; \
	      printf '#define REPORT_JS_SHA256 "%s"\n' \
		"$$(sha256sum html/report.js | cut -c1-64 | xxd -r -p | base64 -w0)"; } > $@.tmp
	$(Q)mv $@.tmp $@

$(foreach r,render_html render_svg,$(BUILD)/user/render/$(r).o $(BUILD)/asan/user/render/$(r).o): \
	$(BUILD)/html_assets.h

# The commit --version names (cli/version.c alone includes it): rewritten only when it changes,
# so that a new commit rebuilds one object.
$(BUILD)/commit.h: FORCE | $(BUILD)
	$(Q)c=$$(git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown); \
	    printf '#define PYFLARE_COMMIT "%s"\n' "$$c" > $@.tmp; \
	    if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(foreach d,$(BUILD) $(BUILD)/asan $(BUILD)/bench,$(d)/user/cli/version.o): $(BUILD)/commit.h

$(BUILD)/user/%.o: user/%.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/asan/user/%.o: user/%.c | $(BUILD)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(BUILD)/pyflare: $(BUILD)/user/cli/main.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ $(LDLIBS) -o $@

# One statically linked binary an SRE copies to any x86-64 host, whatever its C library
# (glibc's, Debian's libbpf.a, libelf.a and libz.a): `make static`. Linked from the same
# objects as build/pyflare. glibc cannot load NSS modules into a static binary, so user and
# group names resolve from /etc/passwd and /etc/group alone there (docs: README, Install),
# and --push and --metrics take an IP address (docs/agent.md).
static: $(BUILD)/static/pyflare

$(BUILD)/static/user_db.o: user/lib/user_db.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -DPYFLARE_STATIC -c $< -o $@

# The same for host names (--push, --metrics): addresses only there (docs/agent.md).
$(BUILD)/static/host_address.o: user/lib/host_address.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -DPYFLARE_STATIC -c $< -o $@

$(BUILD)/static/pyflare: $(BUILD)/user/cli/main.o $(BUILD)/static/user_db.o \
			 $(BUILD)/static/host_address.o \
			 $(filter-out $(BUILD)/user/lib/user_db.o $(BUILD)/user/lib/host_address.o,$(LIB_OBJS))
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -static $^ $(LDLIBS) -o $@

# The same binary with AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer.
$(BUILD)/asan/pyflare: $(BUILD)/asan/user/cli/main.o $(SAN_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $^ $(LDLIBS) -o $@

asan: $(BUILD)/asan/pyflare

# --- bench build --------------------------------------------------------------------------
# $(BUILD)/bench/pyflare: the same sources built with -DPYFLARE_BENCH, with the hooks `make
# bench` needs (user/record/bench_hooks.h, bpf/bench.bpf.h) and its own BPF object, as Austin
# builds austinp beside austin. $(BUILD)/pyflare, the binary installed, has none of them.

BENCH_OBJS := $(patsubst user/%.c,$(BUILD)/bench/user/%.o,$(LIB_SRCS) $(BENCH_SRCS))

$(BUILD)/bench/%.bpf.o: bpf/%.bpf.c | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DPYFLARE_BENCH -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(foreach u,$(SKEL_USERS) record/bench_hooks,$(BUILD)/bench/user/$(u).o): $(BUILD)/bench/pyflare.skel.h
$(foreach r,render_html render_svg,$(BUILD)/bench/user/render/$(r).o): $(BUILD)/html_assets.h

# -I$(BUILD)/bench first: its pyflare.skel.h, not $(BUILD)'s
$(BUILD)/bench/user/%.o: user/%.c | $(BUILD)
	$(call msg,CC-BENCH,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -DPYFLARE_BENCH -I$(BUILD)/bench $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/bench/pyflare: $(BUILD)/bench/user/cli/main.o $(BENCH_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ $(LDLIBS) -o $@

bench-binary: $(BUILD)/bench/pyflare $(BUILD)/bench/tools/walk_cost

# bench/tools/walk_cost: the samplers' body test-run on the fake interpreter of the walker's
# tests, and its parts alone (bench/tools/walk_floor.bpf.c): the warm floor of a sample.
$(BUILD)/bench/tools/walk_floor.bpf.o: bench/tools/walk_floor.bpf.c | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(BUILD)/bench/tools/walk_cost: bench/tools/walk_cost.c tests/bpf/fake_python.c \
		tests/bpf/fake_python.h $(BUILD)/bench/tools/walk_floor.skel.h \
		$(BUILD)/tests/bpf/walk_test.skel.h $(LIB_OBJS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -I$(BUILD)/tests/bpf -I$(BUILD)/bench/tools -Itests/bpf $< \
		tests/bpf/fake_python.c $(LIB_OBJS) $(TEST_LDLIBS) -lpthread -o $@

$(BUILD):
	$(Q)mkdir -p $(BUILD)/user $(BUILD)/asan/user $(BUILD)/asan/tests $(BUILD)/tests/bpf \
		$(BUILD)/bench/user

# --- tests --------------------------------------------------------------------------------

# Unit tests always run under the sanitizers.
$(BUILD)/asan/tests/test_%: tests/unit/test_%.c $(SAN_OBJS) | $(BUILD)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -Itests/unit $< $(SAN_OBJS) $(TEST_LDLIBS) -o $@

# test_X.c test-runs the programs of X_test.bpf.c through its skeleton, X_test.skel.h, on the
# fake interpreter of fake_python.c.
$(BUILD)/tests/bpf/test_%: tests/bpf/test_%.c tests/bpf/fake_python.c tests/bpf/fake_python.h \
		$(BUILD)/tests/bpf/%_test.skel.h $(LIB_OBJS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -I$(BUILD)/tests/bpf -Itests/unit $< tests/bpf/fake_python.c \
		$(LIB_OBJS) $(TEST_LDLIBS) -lpthread -o $@

# Programs the functional tests run (tests/tools/NAME.c), with the sanitizers.
TOOL_SRCS  := $(wildcard tests/tools/*.c)
TOOL_BINS  := $(patsubst tests/tools/%.c,$(BUILD)/asan/tests/tools/%,$(TOOL_SRCS))

$(BUILD)/asan/tests/tools/%: tests/tools/%.c $(SAN_OBJS) | $(BUILD)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $< $(SAN_OBJS) $(TEST_LDLIBS) -o $@

# Libraries the functional tests preload into pyflare (tests/tools/preload/NAME.c): no
# sanitizers, since they stand in for libc's functions in a process built without them.
PRELOAD_SRCS := $(wildcard tests/tools/preload/*.c)
PRELOAD_LIBS := $(patsubst tests/tools/preload/%.c,$(BUILD)/tests/tools/%.so,$(PRELOAD_SRCS))

$(BUILD)/tests/tools/%.so: tests/tools/preload/%.c | $(BUILD)
	$(call msg,CC-SO,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -std=gnu11 -Wall -Wextra -Werror -shared -fPIC $< -ldl -o $@

test-tools: $(TOOL_BINS) $(PRELOAD_LIBS)

# --- fuzzing ------------------------------------------------------------------------------
# `make fuzz` runs each libFuzzer target for FUZZ_TIME seconds from its kept corpus
# (tests/fuzz/corpus/NAME, read only); what it finds goes to $(BUILD)/fuzz/. The corpus is also
# replayed under ASan/UBSan, without libFuzzer, by the unit tests (scripts/run-tests.sh unit).

FUZZ_TIME    ?= 60
FUZZ_TARGETS := session_file session_render
FUZZ_CFLAGS  := -g -O1 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
                -DPYFLARE_VERSION='"$(VERSION)"' -Iuser -I$(BUILD) \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer
# The loader and what it needs: small, so the fuzzer's coverage is the loader's.
FUZZ_SESSION_FILE_SRCS := user/session/session_file.c user/session/session_merge.c \
			  user/session/session.c user/session/sample_log.c user/session/health.c \
			  user/lib/grow.c user/lib/keymap.c

# The loader and every renderer, with what they need.
FUZZ_SESSION_RENDER_SRCS := $(filter-out user/render/outputs.c user/render/output.c \
			    user/session/history.c,$(wildcard user/render/*.c user/session/*.c)) \
			    $(filter-out user/lib/log.c,$(wildcard user/lib/*.c))

.PHONY: fuzz fuzz-corpus

$(BUILD)/fuzz/fuzz_session_file: tests/fuzz/fuzz_session_file.c $(FUZZ_SESSION_FILE_SRCS) | $(BUILD)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $^ -lz -o $@

$(BUILD)/fuzz/fuzz_session_render: tests/fuzz/fuzz_session_render.c $(FUZZ_SESSION_RENDER_SRCS) \
		$(BUILD)/html_assets.h | $(BUILD)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -lz -lm $(PCRE2_LIBS) -o $@

fuzz: $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))
	$(Q)for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)/fuzz/found/$$t && \
		$(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
			-max_len=65536 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
			$(BUILD)/fuzz/found/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

# Folds what `make fuzz` found into the kept corpus, minimised (libFuzzer's -merge): the valid
# files the unit test writes (valid-*) and the hand-made ones test_report_crafted.py renders
# (edge-*) stay, the rest is the smallest set with the same coverage.
fuzz-corpus: $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))
	$(Q)for t in $(FUZZ_TARGETS); do \
		rm -rf $(BUILD)/fuzz/merged/$$t && \
		mkdir -p $(BUILD)/fuzz/merged/$$t $(BUILD)/fuzz/found/$$t && \
		find tests/fuzz/corpus/$$t -name 'valid-*' -o -name 'edge-*' | \
			xargs cp -t $(BUILD)/fuzz/merged/$$t/ && \
		$(BUILD)/fuzz/fuzz_$$t -merge=1 -max_len=65536 $(BUILD)/fuzz/merged/$$t \
			tests/fuzz/corpus/$$t $(BUILD)/fuzz/found/$$t 2>/dev/null && \
		rm -f tests/fuzz/corpus/$$t/* && cp $(BUILD)/fuzz/merged/$$t/* tests/fuzz/corpus/$$t/ && \
		echo "tests/fuzz/corpus/$$t: $$(ls tests/fuzz/corpus/$$t | wc -l) inputs," \
		     "$$(cat tests/fuzz/corpus/$$t/* | wc -c) bytes" || exit 1; \
	done

# The same entry points, replayed over the corpus by tests/fuzz/replay.c.
$(BUILD)/asan/fuzz/%.o: tests/fuzz/%.c | $(BUILD)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(BUILD)/asan/tests/fuzz_replay_%: $(BUILD)/asan/fuzz/fuzz_%.o $(BUILD)/asan/fuzz/replay.o $(SAN_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $^ $(TEST_LDLIBS) -o $@

test: deps all asan bench-binary test-tools static sid-root old-root
	$(Q)scripts/run-tests.sh

# C sources in the style of .clang-format: format rewrites them, format-check lists what differs
format:
	$(Q)scripts/format.sh

format-check:
	$(Q)scripts/format.sh --check

unit-test: $(UNIT_BINS)
	$(Q)scripts/run-tests.sh unit

bpf-test: $(BPFT_BINS)
	$(Q)scripts/run-tests.sh bpf

functional-test: all asan bench-binary test-tools static
	$(Q)scripts/run-tests.sh functional

# A Debian sid root with its own CPython 3.14: the newest interpreter, and a container.
sid-root:
	$(Q)scripts/sid-root.sh

# A Debian bullseye root (glibc 2.31, CPython 3.9): where only the static build can run.
old-root:
	$(Q)PYFLARE_SID_ROOT=$${PYFLARE_OLD_ROOT:-/var/cache/pyflare/bullseye-root} \
	    PYFLARE_SID_SUITE=bullseye PYFLARE_SID_PACKAGES=python3.9 \
	    PYFLARE_SID_PYTHON=/usr/bin/python3.9 scripts/sid-root.sh

demo: deps all
	$(Q)scripts/demo.sh

# Measurements, side by side in one run (docs/performance.md): needs root, takes minutes. They
# run the bench build, $(BUILD)/bench/pyflare (PYFLARE_BENCH_BINARY).
BENCH_ENV = PYFLARE_BENCH_BINARY=$(BUILD)/bench/pyflare

bench: deps bench-binary bench-deps
	$(Q)$(BENCH_ENV) $(PYTHON) bench/run.py

# The same sections with fewer rounds and shorter runs (under 2 minutes): a smoke test.
bench-quick: deps bench-binary bench-deps
	$(Q)$(BENCH_ENV) $(PYTHON) bench/run.py --quick --out build/bench/performance-quick.md

# The peers the benchmark runs beside pyflare: perf (linux-perf), and a Debian sid root with
# pyinstrument and Austin 3.7 (scripts/bench-root.sh).
.PHONY: bench-deps
bench-deps:
	$(Q)command -v perf >/dev/null && perf --version >/dev/null 2>&1 || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf; }
	$(Q)scripts/bench-root.sh

# The collector's CPU and memory over 10-minute recordings (about half an hour), then the
# agent left running host-wide for SOAK_MINUTES (60) on the same churn mix.
SOAK_MINUTES ?= 60
bench-soak: deps bench-binary
	$(Q)$(BENCH_ENV) $(PYTHON) bench/run.py --only $(or $(SOAK_SECTIONS),collector,agent) --soak \
		--soak-minutes $(SOAK_MINUTES) --out build/bench/soak.md

# --- kernel matrix ------------------------------------------------------------------------
# Debian's kernels booted under QEMU (scripts/kernel/), and this machine's own: in each the BPF
# walker's tests, pyflare doctor and a smoke on CPython 3.11-3.14 (tests/kernel/smoke.py); one
# table, also in $(BUILD)/kernel-test/matrix.md. KERNELS="5.10 7.3" picks series ("7": the newest
# 7.x); kernel-test-ci runs the oldest and the newest (no host: the other suites cover it). The
# limits are per BPF program. Kernels are kept in PYFLARE_KERNEL_CACHE (~/.cache/pyflare/kernels).
KERNELS            ?= 5.10 6.1 6.12 6.18 6.19 7
KERNELS_CI         ?= 5.10 7
MAX_VERIFIED_INSNS ?= 20000
MAX_VERIFY_MS      ?= 300
MAX_LOAD_MS        ?= 1000
KERNEL_TIMEOUT     ?= 420
KERNEL_ENV = BUILD=$(BUILD) MAX_VERIFIED_INSNS=$(MAX_VERIFIED_INSNS) MAX_VERIFY_MS=$(MAX_VERIFY_MS) \
	     MAX_LOAD_MS=$(MAX_LOAD_MS) KERNEL_TIMEOUT=$(KERNEL_TIMEOUT)

.PHONY: kernel-test kernel-test-ci
kernel-test: deps all $(BPFT_BINS) sid-root
	$(Q)$(KERNEL_ENV) $(PYTHON) scripts/kernel/matrix.py --kernels "$(KERNELS)"

kernel-test-ci: deps all $(BPFT_BINS) sid-root
	$(Q)$(KERNEL_ENV) $(PYTHON) scripts/kernel/matrix.py --no-host --kernels "$(KERNELS_CI)"

# The binary, its man page, the docs it points to (docs/X.md is installed as
# $(DOCDIR)/X.md) and completion for bash, zsh and fish, written by the binary itself from
# its option tables. PREFIX (/usr/local) and DESTDIR (a staging root, for packages) as usual.
DOCDIR ?= $(PREFIX)/share/doc/pyflare
install: $(BUILD)/pyflare
	install -D -m 0755 $(BUILD)/pyflare $(DESTDIR)$(PREFIX)/bin/pyflare
	install -D -m 0644 docs/pyflare.1 $(DESTDIR)$(PREFIX)/share/man/man1/pyflare.1
	install -d $(DESTDIR)$(DOCDIR)/docs
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/docs/
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	$(BUILD)/pyflare completions bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pyflare
	$(BUILD)/pyflare completions zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_pyflare
	$(BUILD)/pyflare completions fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/pyflare.fish

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
