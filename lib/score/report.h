/* report.h — one self-contained HTML page for a study (xf-score report).
 *
 * The page is described by a manifest, a TSV (xf-tsv(5)) with the columns
 *
 *     kind  title  file  figure  note
 *
 * one row per section, in page order:
 *   kind   "text"   FILE is shown preformatted (config, provenance, the
 *                   findings summary);
 *          "table"  FILE is a TSV shown as an HTML table (the first
 *                   --max-rows rows; the rest behind the link), with
 *                   FIGURE above it when given;
 *          "figure" FIGURE only (FILE, when given, is linked as its source).
 *   title  the section heading;
 *   file, figure  paths relative to the manifest's folder, or "-" for none;
 *                 figures are .svg (inlined as markup) or .png (inlined as a
 *                 base64 data: URI), so the page needs nothing beside it;
 *   note   a sentence under the heading, or "-".
 *
 * Links to the TSVs are written relative to the page's own folder, so the
 * study folder can be moved or copied as a whole.  A section whose file or
 * figure is missing, or whose table has no rows, says so in place; the
 * page is still written.  Nothing reportable at all (every section
 * missing or empty) is an error: no page, exit 1.  The page has no script
 * and fetches nothing.
 */
#ifndef XF_REPORT_H
#define XF_REPORT_H

#include <stddef.h>

typedef struct xf_reportopts {
    const char *title;     /* page title (default "xf study report") */
    size_t max_rows;       /* rows shown per table (default 60) */
} xf_reportopts;

/* Writes the page for MANIFEST to OUT (atomically; "-" = stdout).
 * Returns the number of sections that could not be shown (missing or
 * empty); dies when none could. */
size_t xf_report_write(const char *manifest, const char *out, const xf_reportopts *o);

#endif
