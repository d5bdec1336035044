/* html.h - text from producers made safe for a page: HTML text and
 * attribute values, SVG (XML) text, and the UTF-8 JSON needs.
 *
 * Dossier ids, agency codes and names come from provincial systems and
 * may hold anything: markup, quotes, "]]>", bytes that are not UTF-8,
 * control characters. What these functions write is valid UTF-8 that
 * neither HTML nor XML parses as markup: & < > " ' are escaped as
 * entities, and every byte that does not start a valid character, and
 * every control character but tab and newline, becomes U+FFFD.
 */
#ifndef TP_HTML_H
#define TP_HTML_H

#include "buf.h"

/* Appends s (NUL-terminated; NULL appends nothing) escaped for HTML text,
 * a quoted attribute value, or SVG text. */
void tp_html_escape(struct tp_buf *b, const char *s);

/* Appends s as valid UTF-8 without control characters (tab and newline
 * kept), each other byte replaced as above; no entities. For text that a
 * JSON encoder (jansson refuses invalid UTF-8) or a log will quote. */
void tp_html_scrub(struct tp_buf *b, const char *s);

#endif
