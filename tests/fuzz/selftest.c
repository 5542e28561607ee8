/* selftest.c — checks the harness machinery itself (harness.c), run by
 * run.sh before the harnesses: the input names the case.
 *
 *   die       stage 0 allocates 4 MiB, opens the input with xf_in_open, a
 *             FILE and a DIR, then dies; stage 1 checks that the memory
 *             and descriptors came back.  Must exit 0.
 *   fdleak    returns with a descriptor open: the harness must abort.
 *   overflow  a heap buffer overflow: ASan must report it.
 *   bugdie    dies under fuzz_die_is_bug(1): the harness must abort.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sanitizer/allocator_interface.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"
#include "zio.h"

int fuzz_stages = 2;
static size_t base_bytes;
static int base_fd;

void fuzz_setup(void) {}

static int lowest_free_fd(void)
{
    int fd = dup(0);
    close(fd);
    return fd;
}

static int is(const uint8_t *d, size_t n, const char *s)
{
    return n >= strlen(s) && !memcmp(d, s, strlen(s));
}

void fuzz_one(const uint8_t *data, size_t size, int stage)
{
    if (is(data, size, "die")) {
        if (stage == 0) {
            base_bytes = __sanitizer_get_current_allocated_bytes();
            base_fd = lowest_free_fd();
            char *big = xmalloc(4 << 20);
            memset(big, 1, 4 << 20);
            xf_in *in = xf_in_open(fuzz_file("in", data, size));
            FILE *f = fopen(fuzz_path("in"), "r");
            DIR *d = opendir(fuzz_dir());
            if (!in || !f || !d) abort();
            die("selftest: dying with %p held", (void *)big);
        }
        size_t now = __sanitizer_get_current_allocated_bytes();
        if (now > base_bytes + (64 << 10)) {
            fprintf(stderr, "selftest: %zu bytes still allocated after die (before: %zu)\n", now, base_bytes);
            abort();
        }
        if (lowest_free_fd() != base_fd) {
            fprintf(stderr, "selftest: descriptors leaked by a stage that died\n");
            abort();
        }
        return;
    }
    if (stage) return;
    if (is(data, size, "fdleak")) {
        (void)open(fuzz_dir(), O_RDONLY);
    } else if (is(data, size, "overflow")) {
        volatile char *p = malloc(size);
        p[size] = 1;
        free((void *)p);
    } else if (is(data, size, "bugdie")) {
        fuzz_die_is_bug(1);
        die("selftest: a die that is a bug");
    }
}
