/* feedback_events: the rows of an outcomes file as the events of one
 * RecordFeedback request, for `overstap import outcomes` and overstap-web's
 * upload alike. */
#ifndef OVERSTAP_FEEDBACK_EVENTS_H
#define OVERSTAP_FEEDBACK_EVENTS_H

#include <stddef.h>

#include "control.pb-c.h"
#include "outcomes.h"

/* Set f->events and f->n_events to rows[0..n) (their strings borrowed from
 * rows, which must outlive f's use). 0, or -ENOMEM with f unchanged.
 * feedback_events_free() frees what this allocated. */
int feedback_events_fill(Overstapctl__RecordFeedback *f, struct outcome_row *rows, size_t n);
void feedback_events_free(Overstapctl__RecordFeedback *f);

#endif
