/* plot.h — figures through gnuplot.
 *
 * A caller builds a gnuplot script (data as inline datablocks) in memory;
 * xf_plot_render pipes it to gnuplot, which writes a temp file next to the
 * destination; the file is renamed into place only when gnuplot succeeded
 * and wrote a non-empty file (so a failed plot leaves nothing).  The
 * terminal comes from the extension: ".svg" (svg) or ".png" (pngcairo).
 * The gnuplot program is $XF_GNUPLOT if set, else "gnuplot" on PATH; a
 * missing gnuplot is a die() at xf_plot_open, before any work is done.
 */
#ifndef XF_PLOT_H
#define XF_PLOT_H

#include <stddef.h>

typedef struct xf_plot xf_plot;

/* Checks the extension and that gnuplot exists; WIDTH x HEIGHT in pixels. */
xf_plot *xf_plot_open(const char *path, int width, int height);
/* Appends to the script (after the terminal/output lines). */
void xf_plot_printf(xf_plot *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends S as a gnuplot double-quoted string literal. */
void xf_plot_quote(xf_plot *p, const char *s);
/* Runs gnuplot and commits the file; dies on failure.  Frees P. */
void xf_plot_render(xf_plot *p);
/* Frees P without writing anything. */
void xf_plot_abort(xf_plot *p);
/* Path of the gnuplot program, or NULL if none is found. */
const char *xf_plot_gnuplot(void);

#endif
