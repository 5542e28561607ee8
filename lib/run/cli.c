/* cli.c — see cli.h. */
#include "cli.h"

#include <stdio.h>
#include <omp.h>
#include <stdlib.h>

#include "ops.h"
#include "util.h"

int xf_cli_common(int c, const char *usage)
{
    switch (c) {
    case 'h':
        fputs(usage, stdout);
        exit(0);
    case XF_OPT_VERSION:
        printf("%s (xf) %s\n", xf_progname, XF_VERSION);
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
    return n;
}
