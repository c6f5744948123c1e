/* jdetail: audit details as JSON through jansson (see jdetail.h). */
#include "jdetail.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define REPLACEMENT "\xef\xbf\xbd"	/* U+FFFD in UTF-8 */

json_t *jdetail_textn(const char *s, size_t max)
{
	size_t len = s ? strnlen(s, max) : 0, pos = 0;
	char *buf, *cut;
	json_t *j;

	if (!s)
		return json_string("");
	/* a copy, NUL-terminated at max, so str_utf8_len never reads past it */
	if (!(cut = strndup(s, len)))
		return NULL;
	if (!(buf = malloc(len * 3 + 1))) {	/* each byte may become 3 */
		free(cut);
		return NULL;
	}
	for (size_t i = 0; i < len;) {
		size_t n = str_utf8_len(cut + i);

		if (n == 0) {
			for (const char *r = REPLACEMENT; *r; r++)
				buf[pos++] = *r;
			i++;
		} else {
			memcpy(buf + pos, cut + i, n);
			pos += n;
			i += n;
		}
	}
	j = json_stringn(buf, pos);
	free(buf);
	free(cut);
	return j;
}

json_t *jdetail_text(const char *s)
{
	return jdetail_textn(s, s ? strlen(s) : 0);
}

json_t *jdetail_join(char *const *v, size_t n, const char *sep)
{
	size_t len = 0, pos = 0, seplen = strlen(sep);
	char *buf;
	json_t *j;

	for (size_t i = 0; i < n; i++)
		len += (i ? seplen : 0) + strlen(v[i]);
	if (!(buf = malloc(len + 1)))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]);

		if (i) {
			memcpy(buf + pos, sep, seplen);
			pos += seplen;
		}
		memcpy(buf + pos, v[i], l);
		pos += l;
	}
	buf[pos] = '\0';
	j = jdetail_textn(buf, pos);
	free(buf);
	return j;
}

int jdetail_vformat(char **out, const char *fmt, va_list ap)
{
	json_error_t err;
	json_t *j;

	*out = NULL;
	if (!(j = json_vpack_ex(&err, 0, fmt, ap))) {
		switch (json_error_code(&err)) {
		case json_error_out_of_memory:
		case json_error_null_value:	/* a jdetail_text that failed */
			return -ENOMEM;
		default:
			return -EINVAL;
		}
	}
	*out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return *out ? 0 : -ENOMEM;
}

int jdetail_format(char **out, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = jdetail_vformat(out, fmt, ap);
	va_end(ap);
	return r;
}
