/* auth_pam: the login form's check of a user name and password with PAM
 * ([web] auth = pam, service [web] pam_service). */
#ifndef OVERSTAP_AUTH_PAM_H
#define OVERSTAP_AUTH_PAM_H

#include <stddef.h>

/* 0 when PAM authenticates user with password and admits the account;
 * -EACCES when it does not (why: PAM's words, for the log only), -ENOMEM,
 * or -EIO when the service cannot be started. Blocks for as long as the
 * PAM stack takes (pam_faildelay: seconds after a wrong password). */
int auth_pam_check(const char *service, const char *user, const char *password, char *why,
		   size_t whylen);

#endif
