/* feedback_events: outcomes rows into a RecordFeedback request. */
#include "feedback_events.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int feedback_events_fill(Overstapctl__RecordFeedback *f, struct outcome_row *rows, size_t n)
{
	/* one block: the pointer array, then the events it points to */
	Overstapctl__FeedbackEvent **evp =
		calloc(n ? n : 1, sizeof(*evp) + sizeof(Overstapctl__FeedbackEvent));
	Overstapctl__FeedbackEvent *ev;

	if (!evp)
		return -ENOMEM;
	ev = (Overstapctl__FeedbackEvent *)(evp + (n ? n : 1));
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

void feedback_events_free(Overstapctl__RecordFeedback *f)
{
	free(f->events);
	f->events = NULL;
	f->n_events = 0;
}
