# Shared setup for the xf-mlmstep CLI tests (sourced): a tiny BERT config, a
# synthetic vocabulary and an mlm example stream in $tmp.
mk_tiny() {
    local dir=$1 vocab=${2:-100}
    mkdir -p "$dir"
    cat >"$dir/config.json" <<JSON
{"model_type": "bert", "vocab_size": $vocab, "hidden_size": 32, "num_hidden_layers": 2,
 "num_attention_heads": 2, "intermediate_size": 64, "max_position_embeddings": 64,
 "type_vocab_size": 2, "pad_token_id": 0, "layer_norm_eps": 1e-12,
 "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
 "initializer_range": 0.02, "hidden_act": "gelu"}
JSON
    { printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n'
      for ((i = 5; i < vocab; i++)); do echo "w$i"; done; } >"$dir/vocab.txt"
}
# mk_examples FILE ROWS VOCAB [SEED]: rows of [CLS] ids [SEP], 8..40 tokens
mk_examples() {
    awk -v rows="$2" -v v="$3" -v seed="${4:-1}" 'BEGIN {
        srand(seed); OFS = "\t"
        print "lang", "id", "task", "ids", "types", "words", "labels", "heads", "rels", "offsets", "extra"
        for (r = 0; r < rows; r++) {
            n = 6 + int(rand() * 33); s = "2"
            for (i = 0; i < n; i++) s = s " " (5 + int(rand() * (v - 5)))
            print "xx", "r" r, "mlm", s " 3", "-", "-", "-", "-", "-", "-", "-"
        }
    }' >"$1"
}
