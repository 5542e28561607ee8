/* cli.h — the options every xf tool shares, on top of getopt_long.
 *
 *   static const struct option longopts[] = {
 *       XF_COMMON_LONGOPTS,
 *       {"seed", required_argument, 0, 's'}, ...
 *       {0, 0, 0, 0}};
 *   while ((c = getopt_long(argc, argv, XF_COMMON_SHORTOPTS "s:", longopts, 0)) != -1)
 *       if (!xf_cli_common(c, USAGE)) switch (c) { ... default: die_usage(...); }
 *
 * -h/--help prints USAGE to stdout and exits 0; --version prints
 * "xf-tool (xf) VERSION" and "gemm: KERNEL" (gemm.h) and exits 0; -q/-v set xf_verbosity; '?' (getopt's
 * unknown option) exits 2.
 */
#ifndef XF_CLI_H
#define XF_CLI_H

#include <getopt.h>

#define XF_OPT_VERSION 0x1001
#define XF_COMMON_SHORTOPTS "hqv"
#define XF_COMMON_LONGOPTS                                   \
    {"help", no_argument, 0, 'h'},                           \
    {"version", no_argument, 0, XF_OPT_VERSION},             \
    {"quiet", no_argument, 0, 'q'},                          \
    {"verbose", no_argument, 0, 'v'}

/* Handles the common options; returns 1 if C was one of them. */
int xf_cli_common(int c, const char *usage);
/* --threads N: 0 or absent (NULL) means all cores.  Sets the OpenMP and
 * GEMM thread counts (xf_ops_set_threads), names the GEMM backend in the
 * provenance of streams written from now on (xf_ts_gemm), warns once if
 * that backend runs generic kernels here, and returns the count.
 *
 * A program linking cli.o runs with OMP_WAIT_POLICY=PASSIVE unless the
 * user set it or GOMP_SPINCOUNT (it re-executes itself before main(); see
 * cli.c): spinning waits collapse throughput on oversubscribed machines. */
int xf_cli_threads(const char *val);

#endif
