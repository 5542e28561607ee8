# xf — build, test, benchmark.  `make` builds; `make test` installs missing
# Debian packages, builds, runs every test, then runs the unit and CLI tests
# again under ASan+UBSan in a separate build directory; `make bench` runs the
# benchmarks.  New files need no edit here: lib/LAYER/*.c go into libxf.a,
# tools/xf-*.c become programs, tests/unit/test_*.c become Criterion tests.
#
# GEMM backend (lib/model/gemm.h): make BLAS=blis|openblas|onednn, or
# BLAS=auto (the default): BLIS where it runs native kernels on this CPU,
# else the fastest installed of OpenBLAS and oneDNN by a short probe
# (tests/blas.sh; the choice is cached in $(BUILD)/blas.auto).  A change of
# backend rebuilds what depends on it ($(BUILD)/blas names the one built).

.DEFAULT_GOAL := all
BUILD    ?= build
CC       ?= cc
OPT      ?= -O2 -g
SAN      ?=
BLAS     ?= auto
PKGS      = libzstd jansson libutf8proc
WARN      = -Wall -Wextra -Werror -Wno-unused-parameter
LAYERS    = common text data model run score
CPPFLAGS += $(LAYERS:%=-Ilib/%) -I/usr/include/x86_64-linux-gnu $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# -fno-trapping-math: without it GCC will not if-convert the float compares
# of the `omp simd` kernels (exp, GELU, softmax, dropout) on CPUs without
# AVX-512 masks (AVX2 only), and runs them scalar; xf never reads the FP
# exception flags, and no value changes (no reassociation is allowed).
XFLAGS    = -std=gnu11 $(OPT) $(WARN) -fopenmp -march=native -fno-trapping-math $(SAN) $(CFLAGS)
BLAS_USE  = $(shell cat $(BUILD)/blas 2>/dev/null)
BLAS_LIBS = $(shell bash tests/blas.sh libs $(BLAS_USE))
LDLIBS    = $(BLAS_LIBS) -lcsv -lzstd -ljansson -lutf8proc -lm -lpthread
SHELL     = /bin/bash

LIB_SRC   = $(sort $(wildcard $(LAYERS:%=lib/%/*.c)))
LIB_HDR   = $(wildcard $(LAYERS:%=lib/%/*.h))
LIB_OBJ   = $(LIB_SRC:lib/%.c=$(BUILD)/lib/%.o)
TOOL_SRC  = $(sort $(wildcard tools/xf-*.c))
TOOLS     = $(TOOL_SRC:tools/%.c=$(BUILD)/bin/%)
UNIT_SRC  = $(sort $(wildcard tests/unit/test_*.c))
UNITS     = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# The embedded demo: the whole method through the study driver on
# examples/data (examples/demo.study), outputs in $(DEMO_OUT), then the
# findings; `make tour` is the short tour of the separate tools.
DEMO_OUT ?= demo-study
demo: deps
	@$(MAKE) --no-print-directory all
	@start=$$(date +%s); $(MAKE) --no-print-directory -j2 -f examples/study.mk CONFIG=examples/demo.study \
	  OUT=$(DEMO_OUT) XF_BIN=$(abspath $(BUILD)/bin) summary && \
	  echo "demo: done in $$(( $$(date +%s) - start )) s; outputs in $(DEMO_OUT)/, the report: $(abspath $(DEMO_OUT))/report.html"

tour: all
	@XF_BIN=$(abspath $(BUILD)/bin) bash examples/demo.sh

.PHONY: FORCE demo tour all test check check-unit check-cli check-real check-torch asan bench deps clean lint-man \
        fuzz fuzz-smoke fuzzers
.DELETE_ON_ERROR:

all: $(TOOLS) $(BUILD)/cflags $(BUILD)/ldlibs

# The backend's name; rewritten (and so newer) only when it changes.
$(BUILD)/blas: FORCE
	@bash tests/blas.sh select $(BLAS) $(BUILD)

# What a test or bench script needs to build its own driver against libxf.a:
# cc $$(cat build/cflags) -o prog prog.c build/libxf.a $$(cat build/ldlibs)
$(BUILD)/cflags: Makefile $(BUILD)/blas
	@mkdir -p $(@D)
	@echo '$(LAYERS:%=-I$(CURDIR)/lib/%) $(filter-out -Ilib/%,$(CPPFLAGS)) -std=gnu11 -O2 -g -fopenmp -march=native -fno-trapping-math $(SAN)' > $@.tmp && mv $@.tmp $@
$(BUILD)/ldlibs: Makefile $(BUILD)/blas
	@mkdir -p $(@D)
	@echo '$(LDFLAGS) $(LDLIBS)' > $@.tmp && mv $@.tmp $@

$(BUILD)/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(XFLAGS) -c -o $@ $<

# AdamW's update loop vectorises only without errno handling for sqrtf.
$(BUILD)/lib/model/adamw.o: XFLAGS += -fno-math-errno

$(BUILD)/lib/model/gemm.o: lib/model/gemm.c lib/model/gemm.h $(BUILD)/blas
	@mkdir -p $(@D)
	$(CC) $$(bash tests/blas.sh flags $(BLAS_USE)) $(CPPFLAGS) $(XFLAGS) -c -o $@ $<

$(BUILD)/libxf.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/bin/%: tools/%.c $(BUILD)/libxf.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(XFLAGS) -o $@ $< $(BUILD)/libxf.a $(LDFLAGS) $(LDLIBS)

# Small programs used only by the CLI tests (tests/helpers/*.c).
HELPERS   = $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(wildcard tests/helpers/*.c))
$(BUILD)/tests/helpers/%: tests/helpers/%.c $(BUILD)/libxf.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(XFLAGS) -o $@ $< $(BUILD)/libxf.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libxf.a $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/unit $(XFLAGS) -Wno-missing-field-initializers -o $@ $< $(BUILD)/libxf.a $(LDFLAGS) $(LDLIBS) -lcriterion

# ---- tests ----
deps:
	@bash tests/deps.sh $(BLAS)

test: deps
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory fuzz-smoke
	@echo "make test: all suites passed"

check: all $(UNITS)
	@$(MAKE) --no-print-directory lint-man check-unit check-cli check-real check-torch

check-unit: $(UNITS)
	@bash tests/run-units.sh $(UNITS)

check-cli: all $(HELPERS)
	@XF_BIN=$(abspath $(BUILD)/bin) bash tests/run-scripts.sh cli tests/cli/*.sh

check-real: all
	@XF_BIN=$(abspath $(BUILD)/bin) bash tests/run-scripts.sh real $(wildcard tests/real/*.sh)

check-torch: all
	@XF_BIN=$(abspath $(BUILD)/bin) bash tests/run-scripts.sh torch $(wildcard tests/torch/*.sh)

# One pass of the unit and CLI suites under AddressSanitizer + UBSan.
asan:
	@$(MAKE) --no-print-directory BUILD=build-asan BLAS=$(or $(BLAS_USE),$(BLAS)) OPT="-O1 -g" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	  check-unit check-cli

# ---- fuzzing: libFuzzer harnesses (tests/fuzz/fuzz_*.c), clang + ASan + UBSan ----
# libxf is compiled again with clang in its own build directory; every
# harness runs FUZZ_SECONDS seconds from a seed corpus made at run time
# (tests/fuzz/run.sh).  `make test` runs the 20-second smoke.  The --wrap
# list lets a harness catch die() and release what the parse held
# (tests/fuzz/harness.h).
FUZZ_BUILD    = build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_WRAP     = -Wl,--wrap=exit,--wrap=open,--wrap=close,--wrap=fopen,--wrap=fdopen,--wrap=fclose,--wrap=opendir,--wrap=closedir
FUZZ_SRC      = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZERS       = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

fuzzers: $(FUZZERS) $(BUILD)/fuzz/selftest

$(BUILD)/fuzz/harness.o: tests/fuzz/harness.c tests/fuzz/harness.h $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(XFLAGS) -c -o $@ $<

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/fuzz/harness.o $(wildcard tests/fuzz/*.h) $(BUILD)/libxf.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/fuzz $(XFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/fuzz/harness.o \
	  $(BUILD)/libxf.a $(LDFLAGS) $(LDLIBS) $(FUZZ_WRAP)

# clang's -Wpass-failed: "#pragma omp simd" loops it does not vectorise
FUZZ_MAKE = $(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) BLAS=$(or $(BLAS_USE),$(BLAS)) CC=clang OPT="-O1 -g" \
	  CFLAGS="-Wno-pass-failed" SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link"

fuzz: all
	@$(FUZZ_MAKE) fuzzers
	@XF_BIN=$(abspath $(BUILD)/bin) bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BUILD) $(FUZZ)

# The smoke draws its mutations from a fixed seed (-seed=1), so a CI run
# repeats the last one's search instead of failing at random on a new find;
# `make fuzz` draws a new seed each run to explore.
fuzz-smoke: all
	@$(FUZZ_MAKE) fuzzers
	@XF_BIN=$(abspath $(BUILD)/bin) FUZZ_FLAGS="-seed=1 $(FUZZ_FLAGS)" bash tests/fuzz/run.sh 20 $(FUZZ_BUILD)

bench: all
	@XF_BIN=$(abspath $(BUILD)/bin) bash tests/bench/run.sh

# Plain -Tlint (every level down to STYLE): any message fails.  Run inside
# man/ so that mandoc finds the pages' .Xr to each other there; the one line
# dropped is mandoc's notice that the system has no current mandoc.db (it
# names no page of ours: it says a referenced system page such as gnuplot(1)
# was found on disk without the database).
lint-man:
	@echo "man: mandoc -Tlint man/*"
	@cd man && out=$$(mandoc -Tlint *.[1-9] 2>&1) ; rc=$$? ; \
	  out=$$(printf '%s\n' "$$out" | grep -v '^mandoc: outdated mandoc.db lacks .* entry, run makewhatis' | grep .) ; \
	  if [ $$rc -ne 0 ] || [ -n "$$out" ]; then printf '%s\n' "$$out"; echo "lint-man: mandoc -Tlint failed (exit $$rc)"; exit 1; fi

clean:
	rm -rf build build-asan build-fuzz
