/* feedback_events: outcomes rows into a RecordFeedback request. */
#include "feedback_events.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int feedback_events_fill(Overstapctl__RecordFeedback *f, struct outcome_row *rows, size_t n)
{
	Overstapctl__FeedbackEvent **evp = calloc(n ? n : 1, sizeof(Overstapctl__FeedbackEvent *));
	Overstapctl__FeedbackEvent *ev = n ? calloc(n, sizeof(Overstapctl__FeedbackEvent)) : NULL;

	if (!evp || (n && !ev)) {
		free(evp);
		free(ev);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		overstapctl__feedback_event__init(&ev[i]);
		ev[i].record_id = rows[i].record_id;
		ev[i].pgn = rows[i].pgn;
		ev[i].event = (char *)outcome_event_str(rows[i].event);
		ev[i].date = rows[i].date;
		ev[i].level = (uint32_t)rows[i].level;
		ev[i].line = rows[i].line;
		evp[i] = &ev[i];
	}
	f->events = evp;
	f->n_events = n;
	return 0;
}

/* events[0] is the start of the events' array (when there are any). */
void feedback_events_free(Overstapctl__RecordFeedback *f)
{
	if (f->events && f->n_events)
		free(f->events[0]);
	free(f->events);
	f->events = NULL;
	f->n_events = 0;
}
