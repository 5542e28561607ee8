# examples/study.mk — the whole method as one make: task adapters, base
# evaluations, the transfer grid (α, k, run), language adapters,
# the language-interaction grid (fusion-grid.mk: [A]/[AB]/[ABC],
# xf-project), merged rows, every xf-score analysis with figures, a summary.
#
#   make -f examples/study.mk CONFIG=my.study [-j N] [all|jobs|summary|clean]
#
# A study is a small file of the variables below (examples/demo.study is the
# embedded demo).  Every target is a file written atomically (temp + rename),
# so `make -j N`, an interrupted run and a re-run resume where they stopped and
# never recompute a finished file.  The grid is one file of eval rows per
# (α, k, run): OUT/rows/mlm/α.kK.rR.tsv, made by examples/study-cell.sh, which
# trains the finetuned model once and streams it (tee) into one xf-eval per
# task; it touches the disk only with KEEP=1.  `make jobs` writes
# OUT/jobs.txt, one independent command per (α, run) for GNU Parallel or a
# Slurm array (examples/slurm/study.sbatch); `make` afterwards merges and
# analyses.  Defaults are the paper's (appendix E).  OUT/study.txt (the
# report's first section) records the configuration, every input file as
# its pattern resolved (sha256 prefix; licence and source from a
# MANIFEST.tsv or ATTRIBUTION.tsv above it: examples/study-data.sh), the
# machine, and the wall time of the grid and of the whole study.
#
# Variables (a study file sets them; the command line overrides both):
#   MODEL        base model: HF folder or tensor stream.  Empty with PRETRAIN
#                set: a tiny BERT is pretrained from scratch (the demo).
#   MODEL_NAME   the eval rows' model column (default: MODEL's file name)
#   TOKENIZER    vocabulary (default: MODEL; the learned one with PRETRAIN)
#   TASKS        tasks among pos dep ner nli qa; for each task t:
#     t_LANGS      languages of its task adapter's training data
#     t_TARGETS    its target languages (evaluation sets)
#     t_TRAIN      training file pattern, % = ISO code, may hold a glob
#     t_TEST       evaluation file pattern, likewise
#     t_FLAGS      extra xf-adapt options (default: --max-per-lang 1000)
#   TRANSFER     transfer languages α; TEXT is their raw-text pattern (% = ISO)
#   STEPS        MLM steps k (1 10 100 1000); RUNS (10): runs 1..RUNS
#   SEED         study seed (1): run r of seed S uses xf-mlmstep --seed
#                (S-1)*1000+r; the adapters and pretraining use --seed S
#   MLM_FLAGS    xf-mlmstep options (--batch 8 --seq 512 --lr 5e-5)
#   MLM_SEQ      xf-tokenize --seq of the MLM streams (512)
#   LANG_ADAPTERS languages given a language adapter (xf-adapt --task mlm);
#                per task, those among its targets make its interaction grid
#                (examples/fusion-grid.mk: [A], [AB], [ABC], xf-project)
#   FUSION_SIZES combination sizes of the grid (1 2 3)
#   LANGUAGES    seen/unseen flags (languages.tsv format); SEEN_BY mbert|xlmr
#   PRETRAIN     languages of the tiny model's pretraining text (demo); also
#                PRETRAIN_VOCAB, PRETRAIN_STEPS, PRETRAIN_SEQ, PRETRAIN_FLAGS,
#                PRETRAIN_CONFIG (config.json fields after model_type, vocab_size)
#   LANG_FLAGS   extra xf-adapt --task mlm options of the language adapters
#   THREADS      threads per tool (1: make -j N runs N tools)
#   OUT          output folder (study)
#   KEEP         1: also keep every finetuned model in OUT/models
#   XF_BIN       the tools (default: build/bin of this checkout)

SHELL := /bin/bash
.SUFFIXES:
.DELETE_ON_ERROR:
.SECONDEXPANSION:
.SECONDARY:
XF_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
STUDY_MK := $(abspath $(lastword $(MAKEFILE_LIST)))

ifdef CONFIG
ifeq ($(wildcard $(CONFIG)),)
$(error CONFIG: no such file '$(CONFIG)')
endif
include $(CONFIG)
endif

XF_BIN     ?= $(XF_ROOT)/build/bin
XF_DATA    ?= $(XF_ROOT)/../shared/data
OUT        ?= study
TASKS      ?= pos dep
STEPS      ?= 1 10 100 1000
RUNS       ?= 10
SEED       ?= 1
THREADS    ?= 1
MLM_FLAGS  ?= --batch 8 --seq 512 --lr 5e-5
MLM_SEQ    ?= 512
TEXT       ?= $(XF_DATA)/text/%.txt.zst
LANGUAGES  ?= $(XF_DATA)/languages.tsv
SEEN_BY    ?= auto
KEEP       ?= 0
FUSION_SIZES ?= 1 2 3
PRETRAIN_VOCAB  ?= 3000
PRETRAIN_STEPS  ?= 300
PRETRAIN_SEQ    ?= 64
PRETRAIN_FLAGS  ?= --batch 16 --seq 64 --lr 2e-3 --init-positions sinusoidal
PRETRAIN_CONFIG ?= "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, \
  "intermediate_size": 256, "max_position_embeddings": 256, "type_vocab_size": 2, \
  "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1
# The paper's UD setting on the shared data (override in a study file).
pos_LANGS   ?= eng
pos_TARGETS ?= eng deu fra
pos_TRAIN   ?= $(XF_DATA)/ud/%_*/train.conllu.zst
pos_TEST    ?= $(XF_DATA)/ud/%_*/test.conllu.zst
dep_LANGS   ?= $(pos_LANGS)
dep_TARGETS ?= $(pos_TARGETS)
dep_TRAIN   ?= $(pos_TRAIN)
dep_TEST    ?= $(pos_TEST)
TRANSFER   ?= deu

override OUT := $(abspath $(OUT))
# Every target is written atomically (temp + rename), so make never needs to
# delete one; an interrupt between a cell's rename and its progress line
# must not delete a finished file.
.PRECIOUS: $(OUT)/%
export PATH := $(XF_BIN):$(PATH)
export OMP_WAIT_POLICY ?= PASSIVE

# ---- the model ----
ifeq ($(strip $(MODEL)),)
ifeq ($(strip $(PRETRAIN)),)
$(error MODEL: not set (an HF folder or tensor stream), and no PRETRAIN languages)
endif
BASE       := $(OUT)/base/model.xfts
TOKENIZER  := $(OUT)/base/vocab.txt
MODEL_NAME ?= tiny
MODEL_DEP  := $(BASE)
else
BASE       := $(MODEL)
TOKENIZER  ?= $(MODEL)
MODEL_NAME ?= $(basename $(notdir $(patsubst %/,%,$(MODEL))))
MODEL_DEP  :=
ifeq ($(wildcard $(MODEL)),)
$(error MODEL: no such file or folder '$(MODEL)')
endif
endif

# ---- config checks: one line naming the variable, before any work ----
KNOWN_TASKS := pos dep ner nli qa
isnum = $(if $(strip $(1)),$(if $(shell [[ '$(strip $(1))' =~ ^[0-9]+( +[0-9]+)*$$ ]] && echo y),,$(error $(2): '$(1)' is not a list of numbers)),$(error $(2): empty))
$(call isnum,$(STEPS),STEPS)
$(call isnum,$(RUNS),RUNS)
$(call isnum,$(SEED),SEED)
$(call isnum,$(THREADS),THREADS)
$(if $(filter-out 1,$(words $(RUNS))),$(error RUNS: '$(RUNS)' is not one number))
$(if $(filter-out $(KNOWN_TASKS),$(TASKS)),$(error TASKS: unknown task '$(firstword $(filter-out $(KNOWN_TASKS),$(TASKS)))' (known: $(KNOWN_TASKS))))
$(if $(strip $(TASKS)),,$(error TASKS: empty))
$(if $(strip $(TRANSFER)),,$(error TRANSFER: empty))
# pfile(PATTERN, ISO): the first file matching the pattern with % = ISO
pfile = $(firstword $(wildcard $(subst %,$(2),$(1))))
need = $(if $(call pfile,$(1),$(2)),,$(error $(3): no file '$(subst %,$(2),$(1))' for language $(2)))
$(foreach t,$(TASKS),$(if $(strip $($(t)_LANGS)),,$(error $(t)_LANGS: no training languages for task $(t))))
$(foreach t,$(TASKS),$(if $(strip $($(t)_TARGETS)),,$(error $(t)_TARGETS: no target languages for task $(t))))
$(foreach t,$(TASKS),$(foreach l,$($(t)_LANGS),$(call need,$($(t)_TRAIN),$(l),$(t)_TRAIN)))
$(foreach t,$(TASKS),$(foreach l,$($(t)_TARGETS),$(call need,$($(t)_TEST),$(l),$(t)_TEST)))
$(foreach l,$(TRANSFER),$(if $(call pfile,$(TEXT),$(l)),,$(error TRANSFER: language $(l) has no text ('$(subst %,$(l),$(TEXT))', TEXT))))
$(foreach l,$(LANG_ADAPTERS),$(if $(call pfile,$(TEXT),$(l)),,$(error LANG_ADAPTERS: language $(l) has no text ('$(subst %,$(l),$(TEXT))', TEXT))))
$(foreach l,$(PRETRAIN),$(if $(call pfile,$(TEXT),$(l)),,$(error PRETRAIN: language $(l) has no text ('$(subst %,$(l),$(TEXT))', TEXT))))
$(if $(wildcard $(LANGUAGES))$(PRETRAIN),,$(error LANGUAGES: no such file '$(LANGUAGES)'))

# ---- names ----
RUNLIST   := $(shell seq 1 $(RUNS))
CELLS     := $(foreach a,$(TRANSFER),$(foreach k,$(STEPS),$(foreach r,$(RUNLIST),$(OUT)/rows/mlm/$(a).k$(k).r$(r).tsv)))
ADAPTERS  := $(TASKS:%=$(OUT)/adapters/%.xfts)
BASEROWS  := $(TASKS:%=$(OUT)/rows/base.%.tsv)
LANGADS   := $(LANG_ADAPTERS:%=$(OUT)/adapters/lang.%.xfts)
FUSETASKS := $(foreach t,$(TASKS),$(if $(filter $($(t)_TARGETS),$(LANG_ADAPTERS)),$(t)))
FUSEOUT   := $(FUSETASKS:%=$(OUT)/fusion/%/project.tsv)
ROWS      := $(OUT)/rows.tsv
SCORE     := $(OUT)/score
ANALYSES  := $(addprefix $(SCORE)/,ts.tsv rank.tsv variance.tsv targets.tsv seen.tsv corr.tsv \
               progress.tsv rank.svg targets.svg progress.svg variance.svg seen.svg corr.svg \
               $(if $(FUSEOUT),compare.tsv compare-summary.tsv compare.svg compare-summary.svg))
REPORT    := $(OUT)/report.html
SEENLIST  := $(if $(PRETRAIN),$(OUT)/base/languages.tsv,$(LANGUAGES))
mlm        = $(OUT)/data/mlm.$(1).tsv.zst
taskspecs  = $(foreach t,$(TASKS),$(t):$(OUT)/adapters/$(t).xfts:$(subst $(space),$(comma),$(strip $(foreach l,$($(t)_TARGETS),$(OUT)/data/$(t).$(l).test.tsv.zst))))
comma     := ,
empty     :=
space     := $(empty) $(empty)
TOKOPT     = --tokenizer $(TOKENIZER)
CELLENV    = XF_MODEL='$(BASE)' XF_MODEL_NAME='$(MODEL_NAME)' XF_TOKENIZER='$(TOKENIZER)' \
             XF_THREADS=$(THREADS) XF_MLM_FLAGS='$(MLM_FLAGS)' KEEP=$(KEEP) XF_BIN='$(XF_BIN)'
CELLDEPS   = $(ADAPTERS) $(MODEL_DEP) $(foreach t,$(TASKS),$(foreach l,$($(t)_TARGETS),$(OUT)/data/$(t).$(l).test.tsv.zst))
START     := $(shell date +%s)
DONE0     := $(words $(wildcard $(CELLS)))

.PHONY: all grid jobs summary report clean check-config
all: $(ANALYSES) $(REPORT)
	@echo "study: $(words $(CELLS)) cells, rows and analyses in $(OUT):"
	@for f in $(ROWS) $(BASEROWS) $(ADAPTERS) $(LANGADS) $(ANALYSES) $(foreach f,$(FUSEOUT),$(f) $(f:%.tsv=%.svg) $(f:%project.tsv=%summary.tsv) $(f:%project.tsv=%summary.svg) $(f:%project.tsv=%rows.tsv)); do echo "  $$f"; done
	@echo "  $(OUT)/rows/mlm/ ($(words $(CELLS)) files: α.kK.rR.tsv)"
	@echo "  $(OUT)/summary.txt, $(OUT)/study.txt"
	@echo "study: the report (every table and figure on one page): $(abspath $(REPORT))"
grid: $(CELLS)
check-config: ; @echo "study config ok: $(words $(CELLS)) cells"

# The study's start: made once, before the first target of this OUT (every
# target that reads no other target has it as an order-only prerequisite);
# study.txt gives the whole study's wall time from it.
STARTED   := $(OUT)/.study-start
$(STARTED):
	@mkdir -p $(@D)
	@date +%s > $@.tmp && mv $@.tmp $@

# ---- the tiny base model (PRETRAIN): WordPiece vocabulary, MLM from scratch ----
$(OUT)/base/text.txt: $(foreach l,$(PRETRAIN),$(call pfile,$(TEXT),$(l))) | $(STARTED)
	@mkdir -p $(@D)
	zstd -dcf $^ > $@.tmp && mv $@.tmp $@
$(OUT)/base/vocab.txt: $(OUT)/base/text.txt
	xf-tokenize -q --learn-vocab $(PRETRAIN_VOCAB) -o $@ $<
$(OUT)/base/config.json: $(OUT)/base/vocab.txt
	echo '{"model_type": "bert", "vocab_size": '$$(wc -l < $<)', $(PRETRAIN_CONFIG)}' > $@.tmp && mv $@.tmp $@
$(OUT)/base/pretrain.tsv.zst: $(OUT)/base/vocab.txt
	for l in $(PRETRAIN); do xf-tokenize -q --tokenizer $< --task mlm --seq $(PRETRAIN_SEQ) --lang $$l $(subst %,$$l,$(TEXT)) || exit 1; \
	  done | zstd -q > $@.tmp && mv $@.tmp $@
$(OUT)/base/model.xfts: $(OUT)/base/config.json $(OUT)/base/pretrain.tsv.zst
	xf-mlmstep -q --threads $(THREADS) --init $< --tokenizer $(OUT)/base/vocab.txt --steps $(PRETRAIN_STEPS) \
	  $(PRETRAIN_FLAGS) --seed $(SEED) --log $(OUT)/base/pretrain-log.tsv -o $@ $(OUT)/base/pretrain.tsv.zst
# The model's own seen list: the pretraining languages are seen, all others not.
$(OUT)/base/languages.tsv: | $(STARTED)
	@mkdir -p $(@D)
	{ printf 'iso639_3\tmbert_seen\txlmr_seen\n'; \
	  for l in $(sort $(PRETRAIN) $(TRANSFER) $(LANG_ADAPTERS) $(foreach t,$(TASKS),$($(t)_TARGETS))); do \
	    s=0; for p in $(PRETRAIN); do [ $$l = $$p ] && s=1; done; printf '%s\t%s\t%s\n' $$l $$s $$s; done; } > $@.tmp && mv $@.tmp $@

# ---- example streams ----
define TASKDATA
$(OUT)/data/$(1).$(2).train.tsv.zst: $(call pfile,$($(1)_TRAIN),$(2)) | $(MODEL_DEP) $(STARTED)
	@mkdir -p $$(@D)
	xf-tokenize -q $$(TOKOPT) --task $(1) --lang $(2) -o $$@.tmp.zst $$< && mv $$@.tmp.zst $$@
endef
define TASKTEST
$(OUT)/data/$(1).$(2).test.tsv.zst: $(call pfile,$($(1)_TEST),$(2)) | $(MODEL_DEP) $(STARTED)
	@mkdir -p $$(@D)
	xf-tokenize -q $$(TOKOPT) --task $(1) --lang $(2) -o $$@.tmp.zst $$< && mv $$@.tmp.zst $$@
endef
$(foreach t,$(TASKS),$(foreach l,$($(t)_LANGS),$(eval $(call TASKDATA,$(t),$(l)))))
$(foreach t,$(TASKS),$(foreach l,$($(t)_TARGETS),$(eval $(call TASKTEST,$(t),$(l)))))
define MLMDATA
$(OUT)/data/mlm.$(1).tsv.zst: $(call pfile,$(TEXT),$(1)) | $(MODEL_DEP) $(STARTED)
	@mkdir -p $$(@D)
	xf-tokenize -q $$(TOKOPT) --task mlm --seq $(MLM_SEQ) --lang $(1) -o $$@.tmp.zst $$< && mv $$@.tmp.zst $$@
endef
$(foreach l,$(sort $(TRANSFER) $(LANG_ADAPTERS)),$(eval $(call MLMDATA,$(l))))

# ---- task adapters (once per task) and base evaluations (once per task) ----
$(OUT)/adapters/%.xfts: $$(foreach l,$$($$*_LANGS),$(OUT)/data/$$*.$$(l).train.tsv.zst) $(MODEL_DEP)
	@mkdir -p $(@D)
	xf-adapt -q --threads $(THREADS) -m $(BASE) -T $* --seed $(SEED) $(or $($*_FLAGS),--max-per-lang 1000) -o $@ $(filter %.tsv.zst,$^)
$(OUT)/rows/base.%.tsv: $(OUT)/adapters/%.xfts $$(foreach l,$$($$*_TARGETS),$(OUT)/data/$$*.$$(l).test.tsv.zst)
	@mkdir -p $(@D)
	xf-eval -q --threads $(THREADS) -m $(BASE) -a $< --model-name $(MODEL_NAME) -o $@ $(filter %.test.tsv.zst,$^)

# ---- the transfer grid: one file per (α, k, run) ----
define CELL
$(OUT)/rows/mlm/$(1).k$(2).r$(3).tsv: $(call mlm,$(1)) $(CELLDEPS)
	@mkdir -p $(OUT)/rows/mlm; [ -f $(OUT)/rows/mlm/.start-$(START) ] || \
	  { date +%s > $(OUT)/rows/mlm/.start-$(START).$$$$$$$$ && mv $(OUT)/rows/mlm/.start-$(START).$$$$$$$$ $(OUT)/rows/mlm/.start-$(START); }
	@$(CELLENV) XF_MLM=$(call mlm,$(1)) bash $(XF_ROOT)/examples/study-cell.sh $(OUT) $(1) $(3) $$$$(( ($(SEED) - 1) * 1000 + $(3) )) $(2) $(taskspecs)
	@n=$$$$(ls $(OUT)/rows/mlm/*.tsv 2>/dev/null | wc -l); t=$(words $(CELLS)); new=$$$$((n - $(DONE0))); \
	  el=$$$$(( $$$$(date +%s) - $$$$(cat $(OUT)/rows/mlm/.start-$(START)) )); eta=$$$$(( new > 0 ? el * (t - n) / new : 0 )); \
	  printf 'study: %d/%d cells, eta %dm%02ds (%s k=%s run %s)\n' $$$$n $$$$t $$$$((eta / 60)) $$$$((eta % 60)) $(1) $(2) $(3) >&2
endef
$(foreach a,$(TRANSFER),$(foreach k,$(STEPS),$(foreach r,$(RUNLIST),$(eval $(call CELL,$(a),$(k),$(r))))))

# ---- language adapters and the interaction grid ----
$(OUT)/adapters/lang.%.xfts: $(OUT)/data/mlm.%.tsv.zst $(MODEL_DEP)
	@mkdir -p $(@D)
	xf-adapt -q --threads $(THREADS) -m $(BASE) -T mlm --lang $* --tokenizer $(TOKENIZER) --seed $(SEED) $(LANG_FLAGS) -o $@ $<
# The interaction grid of each task (examples/fusion-grid.mk, run as a
# sub-make: it resumes by itself): [A] of every language adapter on its own
# language, [AB] and [ABC] fusions (xf-fuse, untrained, --seed SEED) on the
# languages inside, and xf-project's table, summary and figures.  Its [A],
# [AB], [ABC] rows join the study's rows (its base rows are the study's own).
fuselangs  = $(filter $($(1)_TARGETS),$(LANG_ADAPTERS))
define FUSIONGRID
$(OUT)/fusion/$(1)/project.tsv: $(OUT)/adapters/$(1).xfts $(MODEL_DEP) \
    $(foreach l,$(call fuselangs,$(1)),$(OUT)/adapters/lang.$(l).xfts $(OUT)/data/$(1).$(l).test.tsv.zst)
	+@$$(MAKE) --no-print-directory -f $(XF_ROOT)/examples/fusion-grid.mk FG_MODEL=$(BASE) FG_TASK=$(OUT)/adapters/$(1).xfts \
	  FG_LANGS='$(call fuselangs,$(1))' FG_OUT=$(OUT)/fusion/$(1) FG_MODEL_NAME=$(MODEL_NAME) FG_BIN=$(XF_BIN)/ \
	  FG_SIZES='$(FUSION_SIZES)' FG_SEED=$(SEED) FG_PLOT_EXT=svg FG_EVAL_FLAGS='--threads $(THREADS)' \
	  $(foreach l,$(call fuselangs,$(1)),FG_ADAPTER_$(l)=$(OUT)/adapters/lang.$(l).xfts FG_EVAL_$(l)=$(OUT)/data/$(1).$(l).test.tsv.zst) \
	  fusion-grid-analysis
endef
$(foreach t,$(FUSETASKS),$(eval $(call FUSIONGRID,$(t))))

# ---- merged rows and the analyses ----
$(ROWS): $(BASEROWS) $(CELLS) $(FUSEOUT)
	{ head -n1 $<; for f in $(BASEROWS) $(CELLS); do tail -n +2 $$f; done; \
	  for f in $(FUSEOUT:%/project.tsv=%/rows.tsv); do awk -F'\t' 'NR > 1 && $$3 != "base"' $$f; done; } > $@.tmp && mv $@.tmp $@
$(SCORE)/ts.tsv: $(ROWS)
	@mkdir -p $(@D)
	xf-score ts --seed $(SEED) -o $@ $<
# Figures mark the languages the model did not see (SEENLIST, SEEN_BY).
FIGLANGS   = --languages $(SEENLIST) --seen-by $(SEEN_BY)
$(SCORE)/rank.tsv $(SCORE)/targets.tsv $(SCORE)/progress.tsv $(SCORE)/variance.tsv $(SCORE)/corr.tsv: \
    $(SCORE)/%.tsv: $(SCORE)/ts.tsv $(SEENLIST)
	xf-score $* $(FIGLANGS) --plot $(SCORE)/$*.svg -o $@ $<
$(SCORE)/rank.svg $(SCORE)/targets.svg $(SCORE)/progress.svg $(SCORE)/variance.svg $(SCORE)/corr.svg \
    $(SCORE)/seen.svg $(SCORE)/compare.svg $(SCORE)/compare-summary.svg: $(SCORE)/%.svg: $(SCORE)/%.tsv
	@test -f $@ && touch $@
$(SCORE)/seen.tsv: $(SCORE)/ts.tsv $(SEENLIST)
	xf-score seen $(FIGLANGS) --plot $(SCORE)/seen.svg -o $@ $<
$(SCORE)/compare.tsv: $(ROWS)
	@mkdir -p $(@D)
	xf-score compare --plot $(SCORE)/compare.svg -o $@ $<
$(SCORE)/compare-summary.tsv: $(ROWS)
	@mkdir -p $(@D)
	xf-score compare --summary --plot $(SCORE)/compare-summary.svg -o $@ $<

# ---- the study page (xf-score report): configuration and provenance, the
# findings, every table and figure; examples/study-report.sh writes its
# manifest from what this study has. ----
$(OUT)/summary.txt: $(ANALYSES) $(SEENLIST)
	bash $(XF_ROOT)/examples/study-summary.sh $(SCORE) $(SEENLIST) > $@.tmp && mv $@.tmp $@
# The inputs as make resolved their patterns (pfile: the files the recipes
# read), for study-data.sh: sha256 prefix, licence and source.
textuse    = $(subst $(space),$(comma)$(space),$(strip $(if $(filter $(1),$(PRETRAIN)),PRETRAIN) \
               $(if $(filter $(1),$(TRANSFER)),TRANSFER) $(if $(filter $(1),$(LANG_ADAPTERS)),LANG_ADAPTERS)))
DATASPECS  = $(foreach t,$(TASKS),$(foreach l,$($(t)_LANGS),'$(t) train $(l) ($(t)_TRAIN)|$(call pfile,$($(t)_TRAIN),$(l))') \
               $(foreach l,$($(t)_TARGETS),'$(t) test $(l) ($(t)_TEST)|$(call pfile,$($(t)_TEST),$(l))')) \
             $(foreach l,$(sort $(PRETRAIN) $(TRANSFER) $(LANG_ADAPTERS)),'text $(l) (TEXT; $(call textuse,$(l)))|$(call pfile,$(TEXT),$(l))')
$(OUT)/study.txt: $(ANALYSES)
	{ echo "study:    $(if $(CONFIG),$(abspath $(CONFIG)),-)"; echo "model:    $(MODEL_NAME) ($(or $(MODEL),tiny BERT pretrained on $(PRETRAIN)))"; \
	  echo "tasks:    $(foreach t,$(TASKS),$(t) (adapter on $($(t)_LANGS); targets $($(t)_TARGETS)))"; \
	  echo "transfer: $(TRANSFER)"; echo "steps:    $(STEPS)"; echo "runs:     $(RUNS) (seeds (SEED-1)*1000+r, SEED $(SEED))"; \
	  echo "language adapters: $(or $(LANG_ADAPTERS),-); fusion sizes $(FUSION_SIZES)"; \
	  echo "seen/unseen: $(SEENLIST) ($(SEEN_BY))"; echo "mlm:      $(MLM_FLAGS)"; \
	  echo "xf:       $$(xf-eval --version | paste -sd ";" | sed "s/;/; /g")"; echo "machine:  $$(uname -srm), $$(nproc) cores, $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"; \
	  bash $(XF_ROOT)/examples/study-data.sh $(DATASPECS); \
	  f=$$(ls $(OUT)/rows/mlm/.start-* 2>/dev/null | head -n 1); \
	  [ -n "$$f" ] && echo "grid wall time: $$(( $$(stat -c %Y $(ROWS)) - $$(cat $$f) )) s (first cell started to rows merged, this run)"; \
	  s=$$(cat $(STARTED) 2>/dev/null); now=$$(date +%s); \
	  if [ -n "$$s" ]; then echo "study wall time: $$((now - s)) s ($$(date -d @$$s '+%F %T') to $$(date -d @$$now '+%F %T'): first target made to the report, over every make run of this OUT)"; \
	  else echo "study wall time: unknown (no $(STARTED))"; fi; \
	  echo "outputs:  $(OUT)"; } > $@.tmp && mv $@.tmp $@
$(REPORT): $(OUT)/summary.txt $(OUT)/study.txt $(ANALYSES) $(FUSEOUT)
	bash $(XF_ROOT)/examples/study-report.sh $(OUT) $(FUSETASKS) > $(OUT)/report.tsv.tmp && mv $(OUT)/report.tsv.tmp $(OUT)/report.tsv
	xf-score report -q --title 'xf study: $(MODEL_NAME), $(TASKS)' -o $@ $(OUT)/report.tsv
report: $(REPORT)
	@echo "study: the report is $(abspath $(REPORT))"

# ---- scale-out: one command per (α, run) ----
jobs: $(CELLDEPS) $(foreach a,$(TRANSFER),$(call mlm,$(a)))
	@for a in $(TRANSFER); do for r in $(RUNLIST); do \
	  echo "$(CELLENV) XF_MLM=$(OUT)/data/mlm.$$a.tsv.zst bash $(XF_ROOT)/examples/study-cell.sh $(OUT) $$a $$r $$(( ($(SEED) - 1) * 1000 + r )) '$(STEPS)' $(taskspecs)"; \
	done; done > $(OUT)/jobs.txt.tmp && mv $(OUT)/jobs.txt.tmp $(OUT)/jobs.txt
	@echo "study: $(OUT)/jobs.txt: $$(wc -l < $(OUT)/jobs.txt) jobs, one per (α, run); run them with"
	@echo "  parallel --joblog $(OUT)/study.log --resume --bar < $(OUT)/jobs.txt"
	@echo "  or sbatch --array=1-$$(wc -l < $(OUT)/jobs.txt) examples/slurm/study.sbatch $(OUT)/jobs.txt"
	@echo "then: make -f $(STUDY_MK) $(if $(CONFIG),CONFIG=$(CONFIG) )OUT=$(OUT)"

summary: all $(OUT)/summary.txt
	@cat $(OUT)/summary.txt

clean:
	rm -rf $(OUT)
