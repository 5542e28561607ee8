# fusion-grid.mk — the language-interaction grid of issue 12 (paper section
# 2 "Negative Interference", Figure 2 [1A]/[2A]/[3A], Figure 4): for a base
# model, a task adapter and languages L1..Ln, each with a language adapter
# and an evaluation set, it evaluates
#   [A]    every language alone:   xf-eval --lang-adapter A          on A
#   [AB]   every pair (n choose 2): xf-fuse A B, xf-eval --fusion     on A and B
#   [ABC]  every triple:           xf-fuse A B C, xf-eval --fusion   on A, B and C
#   base   the task adapter alone (no language adapter) on every language
# and writes the eval rows (xf-tsv(5)) that xf-project(1) reads, plus its
# table and figures.
#
#   make -f examples/fusion-grid.mk -j2 FG_MODEL=mbert/ FG_TASK=pos.xfts \
#        FG_LANGS='eng hin zho wol' FG_ADAPTER_DIR=lang FG_EVAL_DIR=eval
#   make -f examples/fusion-grid.mk ... fusion-grid-analysis
#
# Every target is a file written atomically (the tools write temp + rename;
# the concatenation below too), so an interrupted run leaves nothing that
# looks finished: `make -j2` runs independent evaluations in parallel, and
# running make again resumes with what is missing or out of date.
# Combinations are named by their languages in FG_LANGS order joined by '+'
# (also the fusion order, and the eval rows' adapters column).
#
# Variables (all prefixed FG_; set them on the command line, in the
# environment, or before `include examples/fusion-grid.mk` in another
# makefile such as examples/study.mk):
#   FG_MODEL        base model: HF folder or tensor stream            (required)
#   FG_TASK         task adapter + head: xf-adapt stream or folder     (required)
#   FG_LANGS        languages, ISO 639-3, space-separated; each must be its
#                   language adapter's name (xf-adapt --task mlm --lang)  (required)
#   FG_ADAPTER_DIR  folder of the language adapters, FG_ADAPTER_DIR/L.xfts (.)
#   FG_ADAPTER_<L>  language adapter of L, overriding the above (stream or folder)
#   FG_EVAL_DIR     folder of the evaluation sets, FG_EVAL_DIR/L.tsv (.)
#   FG_EVAL_<L>     evaluation example stream of L (xf-tokenize), overriding the above
#   FG_OUT          output folder (fusion-grid)
#   FG_SIZES        combination sizes evaluated, among 1 2 3 (1 2 3)
#   FG_BASE         1: also evaluate the task adapter without language
#                   adapters (the base rows xf-project summary needs); 0: not (1)
#   FG_SEED         xf-fuse --seed: the untrained fusion's Q/K draw (1)
#   FG_MODEL_NAME   eval rows' model column (default: xf-eval's, from the model)
#   FG_BIN          folder of the xf tools, with a trailing '/' (empty: PATH)
#   FG_FUSE_FLAGS   extra xf-fuse options (e.g. --train EXAMPLES)
#   FG_EVAL_FLAGS   extra xf-eval options (e.g. --batch 64 --threads 2)
#   FG_PROJECT_FLAGS extra xf-project options (e.g. --tie-eps 0.05)
#   FG_PLOT_EXT     figure format: svg or png (png)
# Files (under FG_OUT):
#   base/L.tsv  A/L.tsv  fusion/A+B.xfts  eval/A+B.tsv  (and A+B+C)
#   rows.tsv            every eval row above, one header
#   project.tsv, project.FG_PLOT_EXT   xf-project table and Figure 4 plot
#   summary.tsv, summary.FG_PLOT_EXT   xf-project summary and Figure 2 bars
# Targets: fusion-grid (rows.tsv), fusion-grid-analysis (the four files
# above), fusion-grid-clean (removes FG_OUT).

FG_OUT          ?= fusion-grid
FG_SIZES        ?= 1 2 3
FG_BASE         ?= 1
FG_SEED         ?= 1
FG_ADAPTER_DIR  ?= .
FG_EVAL_DIR     ?= .
FG_PLOT_EXT     ?= png
FG_BIN          ?=
FG_MODEL_NAME   ?=
FG_FUSE_FLAGS   ?=
FG_EVAL_FLAGS   ?=
FG_PROJECT_FLAGS ?=

# Keep the including makefile's default goal; alone, fusion-grid is the default.
fg_saved_goal := $(.DEFAULT_GOAL)

fg_need = $(if $(strip $($1)),,$(error fusion-grid.mk: set $1 ($2)))
ifneq ($(filter-out fusion-grid-clean,$(or $(MAKECMDGOALS),fusion-grid)),)
$(call fg_need,FG_MODEL,the base model)
$(call fg_need,FG_TASK,the task adapter)
$(call fg_need,FG_LANGS,the languages)
endif
ifneq ($(filter-out 1 2 3,$(FG_SIZES)),)
$(error fusion-grid.mk: FG_SIZES must be among 1 2 3, not '$(FG_SIZES)')
endif
ifneq ($(words $(FG_LANGS)),$(words $(sort $(FG_LANGS))))
$(error fusion-grid.mk: a language is repeated in FG_LANGS '$(FG_LANGS)')
endif

fg_adapter = $(or $(FG_ADAPTER_$1),$(FG_ADAPTER_DIR)/$1.xfts)
fg_evalset = $(or $(FG_EVAL_$1),$(FG_EVAL_DIR)/$1.tsv)
fg_rest    = $(wordlist 2,$(words $1),$1)
# Pairs and triples of a list, in list order: "a+b a+c b+c", "a+b+c".
fg_pairs   = $(if $(word 2,$1),$(foreach b,$(call fg_rest,$1),$(firstword $1)+$b) $(call fg_pairs,$(call fg_rest,$1)))
fg_triples = $(if $(word 3,$1),$(foreach p,$(call fg_pairs,$(call fg_rest,$1)),$(firstword $1)+$p) $(call fg_triples,$(call fg_rest,$1)))
fg_langs_of = $(subst +, ,$1)

FG_COMBOS := $(if $(filter 2,$(FG_SIZES)),$(strip $(call fg_pairs,$(FG_LANGS)))) \
             $(if $(filter 3,$(FG_SIZES)),$(strip $(call fg_triples,$(FG_LANGS))))
FG_ROWS := $(if $(filter 1,$(FG_BASE)),$(FG_LANGS:%=$(FG_OUT)/base/%.tsv)) \
           $(if $(filter 1,$(FG_SIZES)),$(FG_LANGS:%=$(FG_OUT)/A/%.tsv)) \
           $(strip $(FG_COMBOS:%=$(FG_OUT)/eval/%.tsv))
fg_name_opt = $(if $(FG_MODEL_NAME),--model-name $(FG_MODEL_NAME))
# Model and task as dependencies when they are files or folders here.
fg_deps = $(wildcard $(FG_MODEL) $(FG_TASK))

.PHONY: fusion-grid fusion-grid-analysis fusion-grid-clean
.DELETE_ON_ERROR:

fusion-grid: $(FG_OUT)/rows.tsv

fusion-grid-analysis: $(FG_OUT)/project.tsv $(FG_OUT)/summary.tsv

fusion-grid-clean:
	rm -rf $(FG_OUT)

define fg_lang_rules
$(FG_OUT)/base/$1.tsv: $(call fg_evalset,$1) $(fg_deps)
	@mkdir -p $$(@D)
	$(FG_BIN)xf-eval -q --model $(FG_MODEL) --adapter $(FG_TASK) $(fg_name_opt) $(FG_EVAL_FLAGS) \
	  -o $$@ $(call fg_evalset,$1)
$(FG_OUT)/A/$1.tsv: $(call fg_adapter,$1) $(call fg_evalset,$1) $(fg_deps)
	@mkdir -p $$(@D)
	$(FG_BIN)xf-eval -q --model $(FG_MODEL) --adapter $(FG_TASK) --lang-adapter $(call fg_adapter,$1) \
	  $(fg_name_opt) $(FG_EVAL_FLAGS) -o $$@ $(call fg_evalset,$1)
endef

define fg_combo_rules
$(FG_OUT)/fusion/$1.xfts: $(foreach l,$(call fg_langs_of,$1),$(call fg_adapter,$l))
	@mkdir -p $$(@D)
	$(FG_BIN)xf-fuse -q --seed $(FG_SEED) $(FG_FUSE_FLAGS) -o $$@ \
	  $(foreach l,$(call fg_langs_of,$1),$(call fg_adapter,$l))
$(FG_OUT)/eval/$1.tsv: $(FG_OUT)/fusion/$1.xfts $(foreach l,$(call fg_langs_of,$1),$(call fg_evalset,$l)) $(fg_deps)
	@mkdir -p $$(@D)
	$(FG_BIN)xf-eval -q --model $(FG_MODEL) --adapter $(FG_TASK) --fusion $$< $(fg_name_opt) \
	  $(FG_EVAL_FLAGS) -o $$@ $(foreach l,$(call fg_langs_of,$1),$(call fg_evalset,$l))
endef

$(foreach l,$(FG_LANGS),$(eval $(call fg_lang_rules,$l)))
$(foreach c,$(strip $(FG_COMBOS)),$(eval $(call fg_combo_rules,$c)))

# All rows in one file, the header once; temp + rename.
$(FG_OUT)/rows.tsv: $(FG_ROWS)
	@mkdir -p $(@D)
	{ head -n 1 $<; for f in $^; do tail -n +2 $$f; done; } > $@.tmp && mv $@.tmp $@

$(FG_OUT)/project.tsv: $(FG_OUT)/rows.tsv
	$(FG_BIN)xf-project $(FG_PROJECT_FLAGS) --plot $(FG_OUT)/project.$(FG_PLOT_EXT) -o $@ $<

$(FG_OUT)/summary.tsv: $(FG_OUT)/rows.tsv
	$(FG_BIN)xf-project summary --plot $(FG_OUT)/summary.$(FG_PLOT_EXT) -o $@ $<

.DEFAULT_GOAL := $(or $(fg_saved_goal),fusion-grid)
