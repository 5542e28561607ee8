/* harness.h — what every libFuzzer harness in tests/fuzz shares.
 *
 * xf's parsers report bad input with die(), which prints one line and calls
 * exit(1).  For a fuzzer that is the expected, uninteresting outcome, and
 * exiting would end the fuzzing process, so the harnesses are linked with
 * -Wl,--wrap=exit (and the --wrap list of FUZZ_WRAP in the Makefile):
 * while an input runs, exit() from the main thread longjmps back to
 * harness.c, which then releases what the abandoned parse held:
 *
 *  - memory: every allocation made during the run (ASan's malloc/free hooks,
 *    so jansson's, zstd's and libc's count too) that is still live is freed;
 *  - files: FILE*, DIR* and descriptors the library opened (--wrap of
 *    open/close/fopen/fdopen/fclose/opendir/closedir) are closed.
 *
 * A parse that returns normally must free what it allocated itself:
 * libFuzzer's leak detection stays on.  Anything else the sanitizers
 * report (overflow, use after free, UB, a signal, a timeout, running out of
 * memory) is a finding.
 *
 * Each harness defines fuzz_setup() (once, before the first input; may
 * die — then the harness cannot run) and fuzz_one(), and may set
 * fuzz_stages > 1: fuzz_one(data, size, stage) then runs once per stage,
 * each stage in its own try, so one input exercises several parsers.
 * Inputs reach path-taking parsers through fuzz_file(), a file in a private
 * temp folder (on /dev/shm when it exists).
 */
#ifndef XF_FUZZ_HARNESS_H
#define XF_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

void fuzz_setup(void);
void fuzz_one(const uint8_t *data, size_t size, int stage);
extern int fuzz_stages;   /* default 1 */

/* Writes DATA[0..size) to NAME inside the harness's temp folder and
 * returns its path (valid until the next call with the same NAME). */
const char *fuzz_file(const char *name, const void *data, size_t size);
/* The temp folder (a fresh one per process, removed at exit). */
const char *fuzz_dir(void);
/* Path of NAME in the temp folder, without writing it. */
const char *fuzz_path(const char *name);
/* Allocations made while tracking is off are not freed when the stage
 * dies (for memory the library keeps for the life of the process, e.g.
 * xf_intern's strings).  On by default at the start of every stage. */
void fuzz_track(int on);
/* While on, die() is a finding (abort) instead of a rejected input: for
 * checks that valid data must pass (a reader's own output re-checked). */
void fuzz_die_is_bug(int on);
/* Reads a file the harness needs at setup (seed vocabularies), or NULL. */
char *fuzz_slurp(const char *path, size_t *len);
/* The shared data folder: $XF_DATA, or ../shared/data beside the tree. */
const char *fuzz_data_dir(void);

#endif
