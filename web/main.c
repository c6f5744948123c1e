/* overstap-web: the staff web page (issue 13). It holds no keys: it talks to
 * overstapd's control socket (design.md §4.9) as a delegate acting for the
 * signed-in user. main reads as its steps: options, config, language, styles,
 * serve, wait for a signal, stop. */
#include <errno.h>
#include <pthread.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "html.h"
#include "server.h"
#include "web.h"
#include "webconf.h"

#ifndef OVERSTAP_WEB_LOCALEDIR
#define OVERSTAP_WEB_LOCALEDIR "/usr/share/locale"
#endif

static void s_usage(FILE *f)
{
	fputs("usage: overstap-web [-c FILE] [-t]\n"
	      "  -c FILE  configuration (default " WEBCONF_DEFAULT ")\n"
	      "  -t       check the configuration, print every problem, and exit\n"
	      "See overstap-web(8).\n", f);
}

/* The pages speak the configured language whatever the service's locale:
 * LANGUAGE is honoured by gettext under any locale but plain "C", and
 * C.UTF-8 keeps the bytes UTF-8. $OVERSTAP_WEB_LOCALEDIR points the tests
 * at the catalogue in the build tree. */
static void s_language(const char *lang)
{
	const char *dir = getenv("OVERSTAP_WEB_LOCALEDIR");

	if (!setlocale(LC_ALL, "C.UTF-8"))
		setlocale(LC_ALL, "");
	setenv("LANGUAGE", lang, 1);
	bindtextdomain(WEB_DOMAIN, dir && *dir ? dir : OVERSTAP_WEB_LOCALEDIR);
	bind_textdomain_codeset(WEB_DOMAIN, "UTF-8");
	/* The CLI's renderers linked in here (the reports, the subject letter)
	 * speak through the CLI's own domain, overstap, once it has a catalogue:
	 * make it the default domain, from the same directory unless told. */
	dir = getenv("OVERSTAP_LOCALEDIR");
	bindtextdomain("overstap", dir && *dir ? dir : OVERSTAP_WEB_LOCALEDIR);
	bind_textdomain_codeset("overstap", "UTF-8");
	textdomain("overstap");
}

int main(int argc, char **argv)
{
	const char *path = WEBCONF_DEFAULT;
	static struct webconf cfg;	/* static: the server borrows it until exit */
	struct server *srv = NULL;
	char errs[4096];
	sigset_t set;
	int c, check = 0, sig = 0, r;

	while ((c = getopt(argc, argv, "c:th")) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 't': check = 1; break;
		case 'h': s_usage(stdout); return 0;
		default: s_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		s_usage(stderr);
		return 2;
	}
	r = webconf_load(path, &cfg, errs, sizeof(errs));
	if (r < 0 || check) {
		fputs(errs, stderr);
		if (check && r == 0)
			printf("%s: ok\n", path);
		return r < 0 ? 2 : 0;
	}
	s_language(cfg.lang);
	if (html_init() < 0) {
		fputs("<3>overstap-web: cannot build the page styles\n", stderr);
		return 1;
	}
	/* Signals are taken synchronously by this thread; the server's thread
	 * (started after the mask, so it inherits it) never sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (server_start(&cfg, &srv) < 0) {
		html_fini();
		return 1;
	}
	fprintf(stderr, "<6>overstap-web: listening on %s port %u, control socket %s, sign-in by %s\n",
		cfg.listen, server_port(srv), cfg.socket,
		cfg.auth == WEBCONF_AUTH_PROXY ? "proxy header" : "PAM");
	sd_notify(0, "READY=1");	/* Type=notify: the socket is bound */
	for (;;) {
		if (sigwait(&set, &sig) != 0 || sig != SIGHUP)
			break;
		fputs("<6>overstap-web: SIGHUP: nothing to reload (restart to apply web.conf)\n", stderr);
	}
	fprintf(stderr, "<6>overstap-web: stopping on signal %d\n", sig);
	sd_notify(0, "STOPPING=1");
	server_stop(&srv);
	html_fini();
	return 0;
}
