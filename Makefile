# xf — build, test, benchmark.  `make` builds; `make test` installs missing
# Debian packages, builds, runs every test, then runs the unit and CLI tests
# again under ASan+UBSan in a separate build directory; `make bench` runs the
# benchmarks.  New files need no edit here: lib/LAYER/*.c go into libxf.a,
# tools/xf-*.c become programs, tests/unit/test_*.c become Criterion tests.

.DEFAULT_GOAL := all
BUILD    ?= build
CC       ?= cc
OPT      ?= -O2 -g
SAN      ?=
PKGS      = libzstd jansson libutf8proc
WARN      = -Wall -Wextra -Werror -Wno-unused-parameter
LAYERS    = common text data model run score
CPPFLAGS += $(LAYERS:%=-Ilib/%) -I/usr/include/x86_64-linux-gnu $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
XFLAGS    = -std=gnu11 $(OPT) $(WARN) -fopenmp -march=native $(SAN) $(CFLAGS)
LDLIBS    = -lblis -lcsv -lzstd -ljansson -lutf8proc -lm -lpthread
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
	  echo "demo: done in $$(( $$(date +%s) - start )) s; outputs in $(DEMO_OUT)/"

tour: all
	@XF_BIN=$(abspath $(BUILD)/bin) bash examples/demo.sh

.PHONY: demo tour all test check check-unit check-cli check-real check-torch asan bench deps clean lint-man
.DELETE_ON_ERROR:

all: $(TOOLS) $(BUILD)/cflags $(BUILD)/ldlibs

# What a test or bench script needs to build its own driver against libxf.a:
# cc $$(cat build/cflags) -o prog prog.c build/libxf.a $$(cat build/ldlibs)
$(BUILD)/cflags: Makefile
	@mkdir -p $(@D)
	@echo '$(LAYERS:%=-I$(CURDIR)/lib/%) $(filter-out -Ilib/%,$(CPPFLAGS)) -std=gnu11 -O2 -g -fopenmp -march=native $(SAN)' > $@.tmp && mv $@.tmp $@
$(BUILD)/ldlibs: Makefile
	@mkdir -p $(@D)
	@echo '$(LDFLAGS) $(LDLIBS)' > $@.tmp && mv $@.tmp $@

$(BUILD)/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(XFLAGS) -c -o $@ $<

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
	@bash tests/deps.sh

test: deps
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory asan
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
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	  check-unit check-cli

bench: all
	@XF_BIN=$(abspath $(BUILD)/bin) bash tests/bench/run.sh

lint-man:
	@echo "man: mandoc -Tlint -W warning man/*"
	@for m in man/*.[1-9]; do mandoc -Tlint -W warning $$m || exit 1; done

clean:
	rm -rf build build-asan
