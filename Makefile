# jmsg: one binary (build/jmsg) with subcommands, built from spec/jmsg.json.
#
#   make            build everything into build/ (warnings are errors)
#   make demo       on lo: the server, the tutorial's requests and its stall
#                   experiment, what the analyzer decoded; writes build/demo/
#   make test       unit tests (plain and under ASan+UBSan), fuzz smoke,
#                   end-to-end tests on loopback, tshark tests
#   make unit       the cmocka unit tests only (fast)
#   make coverage   unit and end-to-end tests on a gcc --coverage tree, line and
#                   branch coverage per folder (gcovr), fails below the targets
#   make deps       install the Debian packages a fresh machine needs
#   make fuzz FUZZ_SECONDS=N [FUZZ_RUNS=N] [FUZZ_FLAGS=...]   every libFuzzer target
#   make soak SOAK_SECONDS=60 SOAK_RATE=2000   server, client and live analyzer
#                   on lo (root): counts exact, no drops, RSS flat
#   make bench      benchmarks, results in bench/RESULTS.md
#   make install PREFIX=/usr/local DESTDIR=    (see "packaging" below)
#   make uninstall PREFIX=/usr/local DESTDIR=
#   make release    build only what make install installs, with the
#                   packager's CFLAGS, CPPFLAGS and LDFLAGS, in build/release
#   make install-dissector    the dissector into your personal plugin folder
#   make clean

CC       ?= gcc
BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
FUZZ_SECONDS ?= 60
# make fuzz: also stop a target after FUZZ_RUNS executions (-1: no limit);
# FUZZ_FLAGS, more libFuzzer flags (e.g. -fork=1 -ignore_crashes=1).
FUZZ_RUNS ?= -1
FUZZ_FLAGS ?=
FUZZ_SMOKE_SECONDS ?= 7
SOAK_SECONDS ?= 60
SOAK_RATE ?= 2000

PKGS     := json-c libpcap nettle libxxhash
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

# Two kinds of tree, never mixed.  A developer build (make, make test, the
# ASan and coverage trees) makes warnings errors and takes OPT, EXTRA_CFLAGS
# and EXTRA_LDFLAGS; it ignores CFLAGS, CPPFLAGS and LDFLAGS.  A packager
# build (RELEASE=1: make release, make install) lives in its own tree,
# $(BUILD)/release, takes the packager's CFLAGS (default -O2 -g), CPPFLAGS
# and LDFLAGS (dpkg-buildflags' hardening flags, say), and leaves warnings
# warnings.  Each tree records the flags it was built with in $(BUILD)/flags;
# when they change, everything in that tree is rebuilt.
ifeq ($(RELEASE),1)
CFLAGS   ?= -O2 -g
WERROR   :=
BUILD_CFLAGS = $(CPPFLAGS) $(CFLAGS)
BUILD_LDFLAGS = $(LDFLAGS)
else
WERROR   := -Werror
OPT      ?= -O2 -g
BUILD_CFLAGS = $(OPT)
BUILD_LDFLAGS =
endif
WARN     := -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter
CSTD     := -std=c11 -D_GNU_SOURCE
CFLAGS_ALL = $(CSTD) $(WARN) -I$(GEN) -Iproto -I. $(PKG_CFLAGS) $(BUILD_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lm -pthread $(EXTRA_LDFLAGS)

GEN      := $(BUILD)/gen
SPEC     := spec/jmsg.json
DEB_PKGS := build-essential pkg-config clang libclang-rt-14-dev libjson-c-dev libpcap-dev libxxhash-dev \
            libcmocka-dev nettle-dev tshark tcpdump python3 iproute2 valgrind tcpflow redis-server redis-tools libxml2-utils gcovr lua5.2 hyperfine \
            groff-base mandoc libcap2-bin \
            wireshark-common python3-pytest python3-setuptools python3-pip python3-wheel python3-venv

# Every .c in these folders goes into the library; each subcommand exports
# NAME_main() and cmd/jmsg.c dispatches to it.
LIB_DIRS := proto io app tcp stall server client analyzer replay
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)) cmd/opts.c cmd/version.c
LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS)) $(BUILD)/obj/gen/jmsg_spec.o \
            $(BUILD)/obj/gen/jmsg_framings.o
# The generator checks framing files with the program's own loader.
GEN_SRCS := $(wildcard spec/gen/*.c) proto/framing_file.c
# spec/framings/NAME.json: one framing each, built into the program by name
# and made into the dissector build/jmsg-NAME.lua.
FRAMINGS := $(sort $(wildcard spec/framings/*.json))
FRAMING_LUAS := $(patsubst spec/framings/%.json,$(BUILD)/jmsg-%.lua,$(FRAMINGS))
FRAMING_TEMPLATE := dissector/framing.lua.in
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

.PHONY: all demo test unit unit-asan e2e coverage fuzz fuzz-smoke deps clean install install-dissector bench \
        release uninstall
.DELETE_ON_ERROR:

all: $(BUILD)/jmsg $(BUILD)/jmsg.lua $(FRAMING_LUAS) $(UNIT_BINS) $(TOOL_BINS) $(BENCH_BINS)

# ---- the flags this tree is built with, and jmsg's version: both written
# when make reads this file (so make -n shows the truth), each rewritten only
# when it changes.  $(BUILD)/flags: a build with other flags rebuilds what
# the old ones made.  $(GEN)/jmsg_version.h: the VERSION file, and `git
# describe` when this folder is a git work tree of its own (not a tarball
# unpacked inside another one).
BUILD_FLAGS = $(CC) $(CFLAGS_ALL) | $(BUILD_LDFLAGS) $(LDLIBS_ALL)
update_file = mkdir -p $(dir $(1)) && printf '%s\n' $(2) >$(1).new && \
              { cmp -s $(1).new $(1) && rm -f $(1).new || mv -f $(1).new $(1); }
# Goals that build nothing in this tree write nothing in it (make install
# builds in $(BUILD)/release, by a make of its own).
ifneq ($(filter-out clean deps install uninstall release,$(or $(MAKECMDGOALS),all)),)
GIT_DESCRIBE := $(shell [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ] && \
                  git describe --tags --always --dirty 2>/dev/null)
# git may refuse to answer where it did before (sudo make install in a tree
# another user owns: "dubious ownership"): the version built stays.
GIT_DESCRIBE := $(or $(GIT_DESCRIBE),$(shell sed -n 's/^.define JMSG_GIT "\(.*\)"$$/\1/p' \
                  $(GEN)/jmsg_version.h 2>/dev/null))
$(shell $(call update_file,$(BUILD)/flags,'$(subst ','\'',$(BUILD_FLAGS))'))
HASH := \#
$(shell $(call update_file,$(GEN)/jmsg_version.h,'$(HASH)define JMSG_VERSION "$(shell cat VERSION)"' \
          '$(HASH)define JMSG_GIT "$(GIT_DESCRIBE)"'))
endif
$(BUILD)/obj/cmd/version.o: $(GEN)/jmsg_version.h

# ---- spec generator (host tool) and generated sources
$(BUILD)/jmsg-gen: $(GEN_SRCS) $(wildcard spec/gen/*.h) proto/framing.h $(BUILD)/flags
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) -Iproto $(PKG_CFLAGS) $(BUILD_CFLAGS) $(BUILD_LDFLAGS) -o $@ $(GEN_SRCS) $(PKG_LIBS)

$(GEN)/jmsg_spec.h $(GEN)/jmsg_spec.c &: $(SPEC) $(BUILD)/jmsg-gen
	@mkdir -p $(GEN)
	$(BUILD)/jmsg-gen c $(SPEC) $(GEN)/jmsg_spec.h $(GEN)/jmsg_spec.c

$(GEN)/jmsg_framings.c: $(FRAMINGS) $(BUILD)/jmsg-gen
	@mkdir -p $(GEN)
	$(BUILD)/jmsg-gen framings-c $@ $(FRAMINGS)

# The dissector: dissector/jmsg.lua.in with the spec's tables written at its
# marker line.  luac -p (Lua 5.2, Wireshark 4.0's) parses the template and the
# result; a syntax error fails the build.
LUA_TEMPLATE := dissector/jmsg.lua.in
LUAC ?= $(shell command -v luac5.2 || command -v luac)

$(BUILD)/jmsg.lua: $(SPEC) $(LUA_TEMPLATE) $(BUILD)/jmsg-gen
	@[ -n "$(LUAC)" ] || { echo "make: no luac5.2 or luac to check $@ with (Debian: apt-get install lua5.2, or make deps)"; exit 1; }
	$(BUILD)/jmsg-gen lua $(SPEC) $(LUA_TEMPLATE) $@
	$(LUAC) -p $(LUA_TEMPLATE) $@

# One dissector per framing file: dissector/framing.lua.in with the framing's
# tables at its marker line, parsed by luac -p like jmsg.lua.
$(BUILD)/jmsg-%.lua: spec/framings/%.json $(SPEC) $(FRAMING_TEMPLATE) $(BUILD)/jmsg-gen
	@[ -n "$(LUAC)" ] || { echo "make: no luac5.2 or luac to check $@ with (Debian: apt-get install lua5.2, or make deps)"; exit 1; }
	$(BUILD)/jmsg-gen framing-lua $(SPEC) $< $(FRAMING_TEMPLATE) $@
	$(LUAC) -p $(FRAMING_TEMPLATE) $@

# ---- library, binary
$(BUILD)/obj/gen/jmsg_spec.o: $(GEN)/jmsg_spec.c $(GEN)/jmsg_spec.h $(BUILD)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/obj/gen/jmsg_framings.o: $(GEN)/jmsg_framings.c proto/framing.h $(BUILD)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/obj/%.o: %.c $(GEN)/jmsg_spec.h $(BUILD)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(BUILD)/libjmsg.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/jmsg: $(BUILD)/obj/cmd/jmsg.o $(LIB_OBJS) $(BUILD)/flags
	$(CC) $(CFLAGS_ALL) $(BUILD_LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libjmsg.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -MMD -MP -Itests/unit -o $@ $< $(BUILD)/libjmsg.a $(LDLIBS_ALL) $(CMOCKA_LIBS)

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libjmsg.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -MMD -MP -o $@ $< $(BUILD)/libjmsg.a $(LDLIBS_ALL)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libjmsg.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -MMD -MP -o $@ $< $(BUILD)/libjmsg.a $(LDLIBS_ALL)

# Headers each object, test, tool and benchmark was built from (-MMD).
-include $(shell find $(BUILD)/obj $(BUILD)/tests $(BUILD)/tools $(BUILD)/bench -name '*.d' 2>/dev/null)

# ---- tests
# The sanitizer build is a second tree built with clang, so every `make test`
# also proves the code is clang-clean.
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_MAKE = $(MAKE) --no-print-directory BUILD=$(BUILD)/asan CC=clang OPT="-O1 -g" \
            EXTRA_CFLAGS="$(ASAN_FLAGS)" EXTRA_LDFLAGS="$(ASAN_FLAGS)"

test: all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory unit-asan
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory e2e

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

unit-asan:
	@$(ASAN_MAKE) $(BUILD)/asan/jmsg $(patsubst $(BUILD)/%,$(BUILD)/asan/%,$(UNIT_BINS) $(TOOL_BINS))
	@set -e; for t in $(patsubst $(BUILD)/%,$(BUILD)/asan/%,$(UNIT_BINS)); do \
	  echo "== $$t (ASan+UBSan)"; ASAN_OPTIONS=detect_leaks=1 $$t; done

e2e: all unit-asan
	@JMSG=$(BUILD)/jmsg JMSG_ASAN=$(BUILD)/asan/jmsg BUILD=$(BUILD) tests/run-e2e.sh

# ---- coverage: a third tree built by gcc with --coverage -O0 (TESTING.md)
# The unit tests, then the end-to-end tests (COVERAGE_E2E=0 leaves them out) run
# on it; gcovr reads the counters, tests/coverage.py prints line and branch
# coverage per folder and per file and fails if a target below is not met:
# COVERAGE_MIN percent of the lines of each COVERAGE_TARGETS entry (a folder
# counts all its files together).  The end-to-end scripts get the coverage
# binary as JMSG_ASAN too, so their sanitizer-only checks pass trivially here.
COV_BUILD := $(BUILD)/cov
COV_MAKE = $(MAKE) --no-print-directory BUILD=$(COV_BUILD) CC=gcc OPT="-O0 -g" \
           EXTRA_CFLAGS="--coverage" EXTRA_LDFLAGS="--coverage"
COVERAGE_E2E ?= 1
COVERAGE_MIN ?= 85
COVERAGE_TARGETS ?= proto/ tcp/capture.c tcp/flow.c tcp/reasm.c tcp/stream.c tcp/conn.c tcp/hunt.c tcp/pair.c tcp/probe.c
COVERAGE_FILES ?= proto/ tcp/capture.c tcp/flow.c tcp/reasm.c tcp/stream.c tcp/conn.c tcp/hunt.c tcp/pair.c tcp/probe.c

coverage:
	@command -v gcovr >/dev/null || { echo "coverage: gcovr is missing (Debian: apt-get install gcovr)"; exit 1; }
	@$(COV_MAKE) all
	@find $(COV_BUILD) -name '*.gcda' -delete; rm -rf $(COV_BUILD)/html; mkdir -p $(COV_BUILD)/html
	@rc=0; \
	$(COV_MAKE) unit || { echo "coverage: unit tests failed"; rc=1; }; \
	if [ "$(COVERAGE_E2E)" = 1 ]; then \
	  JMSG=$(COV_BUILD)/jmsg JMSG_ASAN=$(COV_BUILD)/jmsg BUILD=$(COV_BUILD) tests/run-e2e.sh \
	    || { echo "coverage: end-to-end tests failed"; rc=1; }; \
	else echo "coverage: end-to-end tests left out (COVERAGE_E2E=$(COVERAGE_E2E))"; fi; \
	gcovr -r . --object-directory $(COV_BUILD) $(foreach d,$(LIB_DIRS) cmd,-f '$(d)/') \
	  --json-summary-pretty -o $(COV_BUILD)/coverage.json \
	  --txt $(COV_BUILD)/coverage.txt --html-details $(COV_BUILD)/html/index.html \
	  || { echo "coverage: gcovr failed"; exit 1; }; \
	python3 tests/coverage.py $(COV_BUILD)/coverage.json --min $(COVERAGE_MIN) \
	  $(foreach t,$(COVERAGE_TARGETS),--target $(t)) $(foreach f,$(COVERAGE_FILES),--files $(f)) \
	  || rc=1; \
	echo "coverage: uncovered lines in $(COV_BUILD)/coverage.txt, annotated sources in $(COV_BUILD)/html/index.html"; \
	exit $$rc

# ---- fuzzing (libFuzzer, clang)
# Targets, each NAME:SEEDS:MAX_LEN: $(BUILD)/fuzz/fuzz_NAME from
# fuzz/fuzz_NAME.c, its corpus in $(BUILD)/fuzz/corpus-NAME, seeded from
# SEEDS.  fuzz/README.md says what each one feeds and checks.
FUZZ_TARGETS := decoder_fast:fuzz/seeds:4096 decoder:fuzz/seeds:4096 \
                framings:fuzz/framings-seeds:4096 packets:$(BUILD)/fuzz/seeds-packets:262144 \
                pcap:$(BUILD)/fuzz/seeds-pcap:262144 spec:$(BUILD)/fuzz/seeds-spec:65536 \
                server:fuzz/server-seeds:65536 replay:$(BUILD)/fuzz/seeds-pcap:262144 \
                client:fuzz/client-seeds:65536
FUZZ_BINS := $(foreach t,$(FUZZ_TARGETS),$(BUILD)/fuzz/fuzz_$(firstword $(subst :, ,$(t))))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

FUZZ_BIN := $(BUILD)/fuzz/fuzz_decoder
$(FUZZ_BIN): fuzz/fuzz_decoder.c tests/unit/codec_check.h $(wildcard proto/*.c proto/*.h) $(GEN)/jmsg_spec.c
	@mkdir -p $(@D)
	clang $(CSTD) -O1 -g $(WARN) -I$(GEN) -Iproto -Itests/unit -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all -o $@ fuzz/fuzz_decoder.c \
	  $(filter-out proto/framing%.c,$(wildcard proto/*.c)) $(GEN)/jmsg_spec.c

# The same source, fast: whole input and a few random splits, not every
# split (FUZZ_FAST).
$(BUILD)/fuzz/fuzz_decoder_fast: fuzz/fuzz_decoder.c tests/unit/codec_check.h $(wildcard proto/*.c proto/*.h) $(GEN)/jmsg_spec.c
	@mkdir -p $(@D)
	clang $(CSTD) -O1 -g $(WARN) -DFUZZ_FAST -I$(GEN) -Iproto -Itests/unit -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all -o $@ fuzz/fuzz_decoder.c \
	  $(filter-out proto/framing%.c,$(wildcard proto/*.c)) $(GEN)/jmsg_spec.c

# The framing codec's target: no json-c, no loader; framings built in it.
FUZZ_FRAMINGS_BIN := $(BUILD)/fuzz/fuzz_framings
$(FUZZ_FRAMINGS_BIN): fuzz/fuzz_framings.c $(wildcard proto/*.c proto/*.h) \
		$(GEN)/jmsg_spec.c
	@mkdir -p $(@D)
	clang $(CSTD) -O1 -g $(WARN) -I$(GEN) -Iproto -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all -o $@ fuzz/fuzz_framings.c proto/framing.c proto/encoder.c proto/json.c \
	  proto/framing_file.c proto/spec.c $(GEN)/jmsg_spec.c $(PKG_CFLAGS) $(PKG_LIBS)

# The targets over the whole program link a third tree, $(BUILD)/fuzzlib:
# the library built by clang with the sanitizers and libFuzzer's coverage
# instrumentation.
.PHONY: fuzz-lib
fuzz-lib:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/fuzzlib CC=clang OPT="-O1 -g" \
	  EXTRA_CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" EXTRA_LDFLAGS="$(FUZZ_SAN)" \
	  $(BUILD)/fuzzlib/libjmsg.a

$(BUILD)/fuzz/fuzz_packets $(BUILD)/fuzz/fuzz_pcap $(BUILD)/fuzz/fuzz_server $(BUILD)/fuzz/fuzz_replay \
		$(BUILD)/fuzz/fuzz_client: $(BUILD)/fuzz/%: fuzz/%.c fuzz/messages.h fuzz-lib
	@mkdir -p $(@D)
	clang $(CSTD) -O1 -g $(WARN) -I$(BUILD)/fuzzlib/gen -Iproto -I. $(PKG_CFLAGS) \
	  -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(BUILD)/fuzzlib/libjmsg.a $(PKG_LIBS) -lm -pthread

# With the generator's spec loader, which is jmsg-gen's and not the library's.
$(BUILD)/fuzz/fuzz_spec: fuzz/fuzz_spec.c spec/gen/model.c spec/gen/model.h fuzz-lib
	@mkdir -p $(@D)
	clang $(CSTD) -O1 -g $(WARN) -I$(BUILD)/fuzzlib/gen -Iproto -I. $(PKG_CFLAGS) \
	  -fsanitize=fuzzer $(FUZZ_SAN) -o $@ fuzz/fuzz_spec.c spec/gen/model.c \
	  $(BUILD)/fuzzlib/libjmsg.a $(PKG_LIBS) -lm -pthread

# fuzz_run TARGET SECONDS LOG [FLAGS]: one target of FUZZ_TARGETS for
# SECONDS, its log kept in $(BUILD)/fuzz/LOG-NAME.log; a failing input goes
# to $(BUILD)/fuzz/ (crash-*, leak-*, timeout-*).
# -close_fd_mask=3: the program's own output and error lines are not
# libFuzzer's log.  A finding exits 1 (libFuzzer's own 77 would read as
# "skipped" to the test scripts).
fuzz_run = name=$$(echo $(1) | cut -d: -f1); seeds=$$(echo $(1) | cut -d: -f2); \
	  max=$$(echo $(1) | cut -d: -f3); mkdir -p $(BUILD)/fuzz/corpus-$$name; \
	  echo "== fuzz_$$name for $(2)s (log: $(BUILD)/fuzz/$(3)-$$name.log)"; \
	  rc=0; $(BUILD)/fuzz/fuzz_$$name -max_total_time=$(2) -max_len=$$max -close_fd_mask=3 \
	    -print_final_stats=1 -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix=$(BUILD)/fuzz/ \
	    $(4) $(BUILD)/fuzz/corpus-$$name $$seeds >$(BUILD)/fuzz/$(3)-$$name.log 2>&1 || rc=$$?; \
	  if [ $$rc -eq 0 ]; then grep -E '^(Done|stat::number_of_executed_units|\#[0-9]+.*DONE)' \
	    $(BUILD)/fuzz/$(3)-$$name.log | tail -n 2; else tail -n 40 $(BUILD)/fuzz/$(3)-$$name.log; \
	    echo "fuzz_$$name exited $$rc (log: $(BUILD)/fuzz/$(3)-$$name.log, input: $(BUILD)/fuzz/crash-*, leak-* or timeout-*)"; \
	    exit $$rc; fi

# fuzz_packets' seeds: the fixtures' captures, turned into its packet list.
$(BUILD)/fuzz/seeds-packets/.done: fuzz/mkpackets.py $(wildcard tests/fixtures/*.pcap tests/fixtures/*.pcapng)
	@rm -rf $(@D)
	/usr/bin/python3 fuzz/mkpackets.py $(@D) $(filter-out %.py,$^)
	@touch $@

# fuzz_spec's: the files its loaders read, as shipped and as tested.
FUZZ_SPEC_SEEDS := $(SPEC) $(FRAMINGS) contrib/pytest-jmsg/examples/changed-table.json \
                   $(wildcard tests/fixtures/framings/*.json)
$(BUILD)/fuzz/seeds-spec/.done: $(FUZZ_SPEC_SEEDS)
	@rm -rf $(@D) && mkdir -p $(@D)
	@for f in $^; do cp $$f $(@D)/$$(echo $$f | tr / -); done
	@touch $@

# fuzz_pcap's: the fixtures' captures, and the framing fixtures' scripts
# made into captures by pcapgen.
FUZZ_PCAP_SCRIPTS := $(wildcard tests/fixtures/framings/*.script tests/fixtures/framings/analyzer/*.script)
$(BUILD)/fuzz/seeds-pcap/.done: $(BUILD)/tools/pcapgen $(wildcard tests/fixtures/*.pcap tests/fixtures/*.pcapng) \
		$(FUZZ_PCAP_SCRIPTS)
	@rm -rf $(@D) && mkdir -p $(@D)
	@cp $(filter %.pcap %.pcapng,$^) $(@D)/
	@for s in $(FUZZ_PCAP_SCRIPTS); do $(BUILD)/tools/pcapgen -o $(@D)/$$(basename $$s .script).pcap $$s >/dev/null || exit 1; done
	@touch $@

FUZZ_SEEDS := $(BUILD)/fuzz/seeds-packets/.done $(BUILD)/fuzz/seeds-spec/.done $(BUILD)/fuzz/seeds-pcap/.done

fuzz: $(FUZZ_BINS) $(FUZZ_SEEDS)
	@set -e; for t in $(FUZZ_TARGETS); do $(call fuzz_run,$$t,$(FUZZ_SECONDS),run,-runs=$(FUZZ_RUNS) $(FUZZ_FLAGS)); done

# make test: each target briefly; the make status is the first failing one's.
fuzz-smoke: $(FUZZ_BINS) $(FUZZ_SEEDS)
	@set -e; for t in $(FUZZ_TARGETS); do $(call fuzz_run,$$t,$(FUZZ_SMOKE_SECONDS),smoke); done

# ---- soak: tests/soak.sh for SOAK_SECONDS at SOAK_RATE requests/s (make test
# runs its 3-second form, tests/e2e/29-soak-short.sh)
.PHONY: soak
soak: $(BUILD)/jmsg
	@JMSG=$(BUILD)/jmsg SOAK_SECONDS=$(SOAK_SECONDS) SOAK_RATE=$(SOAK_RATE) tests/soak.sh

# ---- the main job, on loopback
demo: all
	@JMSG=$(BUILD)/jmsg scripts/demo.sh

# ---- benchmarks
bench: all
	bench/run.sh

# ---- packaging
# make install builds only what it installs (the jmsg binary, the dissectors)
# with the packager's flags, in $(BUILD)/release (make release alone does
# that build), and installs, under $(DESTDIR):
#   $(BINDIR)/jmsg
#   $(MANDIR)/man1/jmsg.1
#   $(BASHCOMPDIR)/jmsg          bash completion
#   $(DATADIR)/jmsg.json          the spec
#   $(WIRESHARK_PLUGIN_DIR)/jmsg.lua  the dissector
#   $(WIRESHARK_PLUGIN_DIR)/jmsg-NAME.lua  a dissector per framing file
#                                 (on no port until Decode As or its preference)
# WIRESHARK_PLUGIN_DIR is Wireshark's global Lua plugin folder ("Global Lua
# Plugins" in tshark -G folders): with PREFIX=/usr, Debian's
# /usr/lib/MULTIARCH/wireshark/plugins; with any other PREFIX,
# $(PREFIX)/lib/wireshark/plugins, where Wireshark looks only if told
# (make install-dissector installs into your personal plugin folder).
# make uninstall removes exactly those files, and $(DATADIR) if empty.
RELEASE_BUILD := $(BUILD)/release
RELEASE_MAKE = $(MAKE) --no-print-directory RELEASE=1 BUILD=$(RELEASE_BUILD)
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share/jmsg
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
MULTIARCH ?= $(or $(DEB_HOST_MULTIARCH),$(shell gcc -print-multiarch 2>/dev/null))
WIRESHARK_PLUGIN_DIR ?= $(if $(filter /usr /usr/,$(PREFIX)),/usr/lib/$(if $(MULTIARCH),$(MULTIARCH)/)wireshark/plugins,$(PREFIX)/lib/wireshark/plugins)
MAN_PAGE := docs/jmsg.1
BASH_COMPLETION := contrib/bash-completion/jmsg
FRAMING_NAMES := $(patsubst spec/framings/%.json,jmsg-%.lua,$(FRAMINGS))
INSTALLED = $(BINDIR)/jmsg $(MANDIR)/man1/jmsg.1 $(BASHCOMPDIR)/jmsg $(DATADIR)/jmsg.json \
            $(WIRESHARK_PLUGIN_DIR)/jmsg.lua $(addprefix $(WIRESHARK_PLUGIN_DIR)/,$(FRAMING_NAMES))

release:
	@+$(RELEASE_MAKE) $(RELEASE_BUILD)/jmsg $(RELEASE_BUILD)/jmsg.lua \
	  $(addprefix $(RELEASE_BUILD)/,$(FRAMING_NAMES))

install: release
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
	  $(DESTDIR)$(DATADIR) $(DESTDIR)$(WIRESHARK_PLUGIN_DIR)
	install -m 0755 $(RELEASE_BUILD)/jmsg $(DESTDIR)$(BINDIR)/jmsg
	install -m 0644 $(MAN_PAGE) $(DESTDIR)$(MANDIR)/man1/jmsg.1
	install -m 0644 $(BASH_COMPLETION) $(DESTDIR)$(BASHCOMPDIR)/jmsg
	install -m 0644 $(SPEC) $(DESTDIR)$(DATADIR)/jmsg.json
	install -m 0644 $(RELEASE_BUILD)/jmsg.lua $(DESTDIR)$(WIRESHARK_PLUGIN_DIR)/jmsg.lua
	install -m 0644 $(addprefix $(RELEASE_BUILD)/,$(FRAMING_NAMES)) $(DESTDIR)$(WIRESHARK_PLUGIN_DIR)/

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	@if [ -d $(DESTDIR)$(DATADIR) ]; then rmdir $(DESTDIR)$(DATADIR) 2>/dev/null || \
	  echo "uninstall: $(DESTDIR)$(DATADIR) is not empty; left in place"; fi

install-dissector: $(BUILD)/jmsg.lua $(FRAMING_LUAS)
	install -d $(HOME)/.local/lib/wireshark/plugins
	install -m 0644 $(BUILD)/jmsg.lua $(HOME)/.local/lib/wireshark/plugins/jmsg.lua
	install -m 0644 $(FRAMING_LUAS) $(HOME)/.local/lib/wireshark/plugins/
	@echo "installed $(HOME)/.local/lib/wireshark/plugins/jmsg.lua and $(notdir $(FRAMING_LUAS)) (framings: on no port until told)"

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present:$(foreach p,$(DEB_PKGS), $(p))"; exit 0; fi; \
	echo "deps: missing Debian packages:$$missing"; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "deps: not root; run this yourself:"; \
	  echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y$$missing"; exit 1; \
	fi; \
	echo "deps: apt-get update"; apt-get update -q; \
	echo "deps: apt-get install -y$$missing"; \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends$$missing

clean:
	rm -rf $(BUILD)
