# SPDX-License-Identifier: MIT
# The one build entry point. `make demo` and `make test` work on a fresh Debian 12 machine:
# both install what is missing first (scripts/deps.sh, needs root or sudo).

BUILD      ?= build
PREFIX     ?= /usr/local
CC         ?= gcc
CLANG      ?= clang
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

CFLAGS     ?= -g -O2
CFLAGS     += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -DPYFLARE_VERSION='"$(VERSION)"' \
              -Iuser -Ibpf -Ivendor -I$(BUILD) -MMD -MP
LDLIBS     := -lbpf -lelf -lz -lcjson -lm
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf -Ivendor \
              -I/usr/include/$(shell uname -m)-linux-gnu -MMD -MP
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

USER_SRCS  := $(wildcard user/*.c)
LIB_SRCS   := $(filter-out user/main.c,$(USER_SRCS))
LIB_OBJS   := $(patsubst user/%.c,$(BUILD)/user/%.o,$(LIB_SRCS))
SAN_OBJS   := $(patsubst user/%.c,$(BUILD)/asan/user/%.o,$(LIB_SRCS))
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/%,$(UNIT_SRCS))
BPFT_SRCS  := $(wildcard tests/bpf/test_*.c)
BPFT_BINS  := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(BPFT_SRCS))

.PHONY: all deps demo test unit-test bpf-test functional-test asan install clean sid-root check-tools
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/pyflare

deps:
	$(Q)scripts/deps.sh

# --- BPF object and skeletons -------------------------------------------------------------

$(BUILD)/%.bpf.o: bpf/%.bpf.c | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/tests/bpf/%.bpf.o: tests/bpf/%.bpf.c | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/tests/bpf/%.skel.h: $(BUILD)/tests/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# --- userspace ----------------------------------------------------------------------------

# Only the collector includes the skeleton; it must exist before that object is compiled.
$(BUILD)/user/collector.o $(BUILD)/asan/user/collector.o: $(BUILD)/pyflare.skel.h

$(BUILD)/user/%.o: user/%.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/asan/user/%.o: user/%.c | $(BUILD)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(BUILD)/pyflare: $(BUILD)/user/main.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# The same binary with AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer.
$(BUILD)/asan/pyflare: $(BUILD)/asan/user/main.o $(SAN_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $^ $(LDLIBS) -o $@

asan: $(BUILD)/asan/pyflare

$(BUILD):
	$(Q)mkdir -p $(BUILD)/user $(BUILD)/asan/user $(BUILD)/asan/tests $(BUILD)/tests/bpf

# --- tests --------------------------------------------------------------------------------

# Unit tests always run under the sanitizers.
$(BUILD)/asan/tests/test_%: tests/unit/test_%.c $(SAN_OBJS) | $(BUILD)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -Itests/unit $< $(SAN_OBJS) $(LDLIBS) -o $@

# test_X.c test-runs the programs of X_test.bpf.c through its skeleton, X_test.skel.h.
$(BUILD)/tests/bpf/test_%: tests/bpf/test_%.c $(BUILD)/tests/bpf/%_test.skel.h $(LIB_OBJS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -I$(BUILD)/tests/bpf -Itests/unit $< $(LIB_OBJS) $(LDLIBS) -lpthread -o $@

test: deps all asan sid-root
	$(Q)scripts/run-tests.sh

unit-test: $(UNIT_BINS)
	$(Q)scripts/run-tests.sh unit

bpf-test: $(BPFT_BINS)
	$(Q)scripts/run-tests.sh bpf

functional-test: all asan
	$(Q)scripts/run-tests.sh functional

# A Debian sid root with its own CPython 3.14: the newest interpreter, and a container.
sid-root:
	$(Q)scripts/sid-root.sh

demo: deps all
	$(Q)scripts/demo.sh

install: $(BUILD)/pyflare
	install -D -m 0755 $(BUILD)/pyflare $(DESTDIR)$(PREFIX)/bin/pyflare
	install -D -m 0644 docs/pyflare.1 $(DESTDIR)$(PREFIX)/share/man/man1/pyflare.1

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
