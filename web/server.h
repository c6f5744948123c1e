/* server: overstap-web's HTTP side on libmicrohttpd: one polling thread
 * serves every request (so the session table needs no locks), reads the
 * bodies within [web] max_upload, signs users in (proxy header or PAM form),
 * checks the CSRF token of every POST and the right of every screen, and
 * sends each reply with the security headers. */
#ifndef OVERSTAP_SERVER_H
#define OVERSTAP_SERVER_H

#include <stdint.h>

struct webconf;
struct server;

/* Start serving c (borrowed; it must outlive the server). 0 and *out, or a
 * negative code after a message on stderr. */
int server_start(const struct webconf *c, struct server **out);
/* The port actually bound (for listen = ADDRESS:0). */
uint16_t server_port(const struct server *s);
void server_stop(struct server **s);

#endif
