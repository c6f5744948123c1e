/* auth_pam: PAM for the login form (see auth_pam.h). */
#include "auth_pam.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <security/pam_appl.h>

static void s_free_resp(struct pam_response *r, int n)
{
	for (int i = 0; i < n; i++) {
		if (r[i].resp) {
			OPENSSL_cleanse(r[i].resp, strlen(r[i].resp));	/* a copy of the password */
			free(r[i].resp);
		}
	}
	free(r);
}

/* The conversation answers the password prompt and nothing else: a stack
 * that asks for more (a second factor, a new password) cannot be served by
 * a form with two fields and fails here rather than hang. */
static int s_conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	const char *password = data;
	struct pam_response *r;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			r[i].resp = strdup(password);
			if (!r[i].resp) {
				s_free_resp(r, n);
				return PAM_BUF_ERR;
			}
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			break;
		default:
			s_free_resp(r, n);
			return PAM_CONV_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

int auth_pam_check(const char *service, const char *user, const char *password, char *why,
		   size_t whylen)
{
	struct pam_conv conv = { s_conv, (void *)password };
	pam_handle_t *h = NULL;
	int pr = pam_start(service, user, &conv, &h);

	if (pr != PAM_SUCCESS) {
		snprintf(why, whylen, "pam_start: %s", pam_strerror(h, pr));
		return pr == PAM_BUF_ERR ? -ENOMEM : -EIO;
	}
	pr = pam_authenticate(h, PAM_DISALLOW_NULL_AUTHTOK);
	if (pr == PAM_SUCCESS)
		pr = pam_acct_mgmt(h, PAM_DISALLOW_NULL_AUTHTOK);
	snprintf(why, whylen, "%s", pam_strerror(h, pr));
	pam_end(h, pr);
	if (pr == PAM_SUCCESS)
		return 0;
	return pr == PAM_BUF_ERR ? -ENOMEM : -EACCES;
}
