/* subject_json: the daemon's Subject reply as the evidence object that
 * client/subject_out.c renders into the letter a parent reads (design.md
 * §3.11), built here because the CLI's builder lives in its command code. */
#ifndef OVERSTAP_SUBJECT_JSON_H
#define OVERSTAP_SUBJECT_JSON_H

#include <jansson.h>

#include "control.pb-c.h"

/* New reference, or NULL on ENOMEM. A dossier that does not unpack is left
 * out of its record (the letter then says nothing of it is held). */
json_t *subject_json(const char *key, const Overstapctl__Subject *s);

#endif
