/* pages: the screens, one handler each, by role (issue 13): the mentor's
 * (pages_school.c), the MBO intake coordinator's (pages_mbo.c), the
 * quality-care officer's (pages_report.c), the privacy officer's
 * (pages_privacy.c), the administrators' (pages_admin.c). Each writes r->out and sets r->status; the server has
 * checked the session, the CSRF token and the right before it runs. */
#ifndef OVERSTAP_PAGES_H
#define OVERSTAP_PAGES_H

#include "web.h"

typedef void page_fn(struct req *r);

page_fn page_home;
page_fn page_leavers, page_pupil, page_inzage, page_registered, page_send, page_lost;
page_fn page_inbox, page_find, page_dossier, page_status_set, page_outcomes, page_outcomes_post;
page_fn page_report, page_report_download;
page_fn page_subject, page_erase, page_audit;
page_fn page_import, page_import_post, page_consents, page_admin;

#endif
