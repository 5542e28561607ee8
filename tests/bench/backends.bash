# backends.bash (sourced by tests/bench/mlmstep.sh): the sgemm rate of every
# installed GEMM backend, as xf calls it (tests/bench/gemm_probe.c over
# lib/model/gemm.c), in one run: 4096x768x768 and 4096x3072x768 (C = A·Bᵀ,
# the mBERT linear shapes) on $threads threads and on 1.  A backend's rate is
# that of the two products together (FLOPs over seconds).  Sets
#   chosen, chosen_rate     the backend this build links and its rate
#   fastest, fastest_rate   the fastest installed backend and its rate
# OpenBLAS runs with this environment's OPENBLAS_CORETYPE (printed); one more
# row shows what it does without it (auto-detected core).
bench_backends() {
    local build=$1 dir=$2 b line kern g1 g2 gen r1 r2 rate t1a t1b _
    chosen=$(cat "$build/blas") chosen_rate=0 fastest="" fastest_rate=0
    printf '%-26s %-44s %9s %9s %9s %9s\n' backend kernel "768 ${threads}t" "3072 ${threads}t" \
        "768 1t" "3072 1t"
    for b in blis openblas onednn openblas-autodetect; do
        local env=()
        case $b in
            openblas-autodetect) env=(env -u OPENBLAS_CORETYPE); bash "$root/tests/blas.sh" ok openblas || continue ;;
            *) bash "$root/tests/blas.sh" ok "$b" || { printf '%-26s not installed\n' "$b"; continue; } ;;
        esac
        local p=${b%-autodetect}
        line=$("${env[@]}" bash "$root/tests/blas.sh" probe "$p" "$dir" "$threads")
        IFS=$'\t' read -r _ kern g1 g2 gen <<< "$line"
        IFS=$'\t' read -r _ _ t1a t1b _ <<< "$("${env[@]}" bash "$root/tests/blas.sh" probe "$p" "$dir" 1)"
        rate=$(awk -v a="$g1" -v b="$g2" 'BEGIN { printf "%.1f", 5 / (1 / a + 4 / b) }')
        local label=$b
        [ "$b" = openblas ] && label="openblas (CORETYPE=${OPENBLAS_CORETYPE:-unset})"
        [ "$gen" = 1 ] && kern="$kern [generic]"
        printf '%-26s %-44s %9s %9s %9s %9s  -> %s GFLOP/s\n' "$label" "$kern" "$g1" "$g2" "$t1a" "$t1b" "$rate"
        [ "$b" = openblas-autodetect ] && continue   # not what xf runs here
        [ "$p" = "$chosen" ] && chosen_rate=$rate
        if awk -v a="$rate" -v b="$fastest_rate" 'BEGIN { exit !(a > b) }'; then
            fastest=$b fastest_rate=$rate
        fi
    done
    echo "built with: $chosen ($chosen_rate GFLOP/s); fastest installed: $fastest ($fastest_rate GFLOP/s)"
    awk -v c="$chosen_rate" -v f="$fastest_rate" 'BEGIN {
        printf "chosen sgemm = %.0f %% of the fastest (target >= 85 %%): %s\n", 100 * c / f,
            (c >= 0.85 * f) ? "MET" : "NOT MET" }'
}
