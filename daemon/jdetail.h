/* jdetail: the JSON `detail` of an audit entry, built with jansson so that no
 * text a peer or a file supplied can end its string and add keys. */
#ifndef OVERSTAP_JDETAIL_H
#define OVERSTAP_JDETAIL_H

#include <stdarg.h>
#include <stddef.h>

#include <jansson.h>

/* A new JSON string holding s, with every byte that is not part of
 * well-formed UTF-8 replaced by U+FFFD (jansson refuses invalid UTF-8, and a
 * refused audit write inside a receive batch would withhold its acks for
 * good). Control characters stay; jansson escapes them when dumping. Pass
 * the result to the "o" format of jdetail_format (or store_auditf), which takes
 * it over. NULL only when out of memory (jdetail_format then says -ENOMEM);
 * s NULL reads as "". jdetail_textn reads at most max bytes of s (a cut
 * character becomes U+FFFD). */
json_t *jdetail_text(const char *s);
json_t *jdetail_textn(const char *s, size_t max);
/* The n strings of v joined by sep into one JSON string (the audit keeps a
 * list such as receipt items as "a,b,c"), made valid as by jdetail_text.
 * NULL only when out of memory. */
json_t *jdetail_join(char *const *v, size_t n, const char *sep);

/* The compact JSON text (keys in the order given) of a json_pack format and
 * its arguments, e.g. "{s:s, s:I, s:o}". Every string that did not come from
 * this program goes in through jdetail_text and "o", never "s": "s" with
 * invalid UTF-8 fails. *out is the caller's to free(). 0, -ENOMEM (also for
 * a NULL "o" argument: a jdetail_text that failed), or -EINVAL (a bad format
 * or a bad "s" argument). "o" arguments are taken over even on failure. */
int jdetail_format(char **out, const char *fmt, ...);
int jdetail_vformat(char **out, const char *fmt, va_list ap);


#endif
