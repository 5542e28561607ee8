/* cli.c — see cli.h. */
#include "cli.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gemm.h"
#include "ops.h"
#include "tstream.h"
#include "util.h"

/* OpenMP threads that wait (at a barrier, or for the next parallel region)
 * spin by default in libgomp: ~300,000 polls before sleeping, per wait.  On
 * an oversubscribed machine (more runnable threads than cores) a spinning
 * thread burns the time slice that the thread it waits for needs, at every
 * one of the hundreds of parallel regions per step: measured 24x slower
 * with 6 runnable processes on 2 cores where 3x is the fair share.  xf's
 * regions are long (milliseconds) so sleeping at once costs nothing
 * measurable when the machine is idle.  libgomp reads OMP_WAIT_POLICY only
 * when it is loaded, before main(), so a program that links this file
 * starts itself again with OMP_WAIT_POLICY=PASSIVE, unless the user set
 * OMP_WAIT_POLICY or GOMP_SPINCOUNT (respected as given).  The exec happens
 * in a constructor: before main() has read, written or opened anything.
 * glibc passes constructors argc, argv and envp. */
__attribute__((constructor)) static void xf_passive_wait(int argc, char **argv, char **envp)
{
    (void)argc, (void)envp;
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT") || !argv || !argv[0]) return;
    if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
    execv("/proc/self/exe", argv);
    /* no /proc: carry on spinning (correct, only slower under load) */
}

int xf_cli_common(int c, const char *usage)
{
    switch (c) {
    case 'h':
        fputs(usage, stdout);
        exit(0);
    case XF_OPT_VERSION:
        printf("%s (xf) %s\ngemm: %s\n", xf_progname, XF_VERSION, xf_gemm_kernel());
        exit(0);
    case 'q':
        xf_verbosity = 0;
        return 1;
    case 'v':
        xf_verbosity = 2;
        return 1;
    case '?':
        fprintf(stderr, "Try '%s --help' for more information.\n", xf_progname);
        exit(2);
    }
    return 0;
}

int xf_cli_threads(const char *val)
{
    int n = val ? (int)xf_parse_long("--threads", val, 0, 4096) : 0;
    if (n == 0) n = xf_ncpu();
    omp_set_num_threads(n);
    xf_ops_set_threads(n);
    xf_ts_gemm = xf_gemm_kernel();
    xf_gemm_warn_generic(xf_progname);
    return n;
}
