/* Unit tests for web/webconf.c: defaults, every problem with its line, the proxy address. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "webconf.h"

static char s_path[64];

static const char *s_write(const char *text)
{
	FILE *f;
	int fd;

	snprintf(s_path, sizeof(s_path), "/tmp/test_webconf.XXXXXX");
	fd = mkstemp(s_path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return s_path;
}

static void test_defaults(void **state)
{
	struct webconf c;
	char err[1024];

	(void)state;
	assert_int_equal(webconf_load(s_write("[web]\n"), &c, err, sizeof(err)), 0);
	unlink(s_path);
	assert_string_equal(err, "");
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_int_equal(c.listen_sa.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&c.listen_sa)->sin_port), 8080);
	assert_int_equal(c.auth, WEBCONF_AUTH_PROXY);
	assert_string_equal(c.proxy_header, "X-Remote-User");
	assert_int_equal(c.session_idle_s, 900);
	assert_true(c.secure_cookies);
	assert_int_equal(c.timeout_ms, 30000);
}

static void test_every_problem_with_its_line(void **state)
{
	struct webconf c;
	char err[2048];

	(void)state;
	assert_int_equal(webconf_load(s_write("[web]\n"
					      "listen = [::1]:80\n"
					      "auth = kerberos\n"
					      "session_idle = 0\n"
					      "secure_cookies = maybe\n"
					      "colour = blue\n"
					      "[other]\n"
					      "proxy_address = proxy.example\n"),
				      &c, err, sizeof(err)),
			 -EINVAL);
	unlink(s_path);
	assert_non_null(strstr(err, ":3: auth: must be proxy or pam"));
	assert_non_null(strstr(err, ":4: session_idle: must be a number from 1 to 86400"));
	assert_non_null(strstr(err, ":5: secure_cookies: must be yes or no"));
	assert_non_null(strstr(err, ":6: colour: unknown key"));
	assert_non_null(strstr(err, ":8: other: unknown section"));
	/* the IPv6 listen address was fine */
	assert_null(strstr(err, "listen"));
	assert_int_equal(c.listen_sa.ss_family, AF_INET6);
}

static void test_bad_values(void **state)
{
	struct webconf c;
	char err[1024];

	(void)state;
	assert_int_equal(webconf_load(s_write("[web]\nlisten = 127.0.0.1\nsocket = relative.sock\n"
					      "proxy_address = 999.1.1.1\nproxy_header = X Y\n"),
				      &c, err, sizeof(err)),
			 -EINVAL);
	unlink(s_path);
	assert_non_null(strstr(err, "listen: must be ADDRESS:PORT"));
	assert_non_null(strstr(err, "socket: must be an absolute path"));
	assert_non_null(strstr(err, "proxy_address: must be an IPv4 or IPv6 address"));
	assert_non_null(strstr(err, "proxy_header: must be a header name"));
	assert_int_equal(webconf_load("/nonexistent/web.conf", &c, err, sizeof(err)), -ENOENT);
}

static void test_is_proxy(void **state)
{
	struct webconf c;
	char err[256];
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sockaddr_in6 b = { .sin6_family = AF_INET6 };

	(void)state;
	assert_int_equal(webconf_load(s_write("[web]\nproxy_address = 127.0.0.1\n"), &c, err,
				      sizeof(err)),
			 0);
	unlink(s_path);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_true(webconf_is_proxy(&c, (struct sockaddr *)&a));
	inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
	assert_false(webconf_is_proxy(&c, (struct sockaddr *)&a));
	inet_pton(AF_INET6, "::1", &b.sin6_addr);
	assert_false(webconf_is_proxy(&c, (struct sockaddr *)&b));
	assert_false(webconf_is_proxy(&c, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_problem_with_its_line),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_is_proxy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
