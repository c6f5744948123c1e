/* daemon: one overstapd — its state, its single poll loop, reload and the
 * counters of what it refused. */
#include "daemon.h"
#include "control.h"
#include "envelope.h"
#include "erasure.h"
#include "import.h"
#include "jdetail.h"
#include "net.h"
#include "outbox.h"
#include "watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

static int s_signals_open(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked before libzmq starts its threads, so they inherit the mask and
	 * only the signalfd sees these signals. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return d->sigfd < 0 ? -errno : 0;
}

/* How to put a backup in place: said wherever a store is refused. */
#define RESTORE_HINT                                                                      \
	"restore it from a backup: stop overstapd, copy the newest file made by `overstap " \
	"store backup` to %s (owner overstap, mode 0600; remove %s-wal and %s-shm), and "   \
	"start overstapd again (overstapd(8), RESTORING FROM A BACKUP)"

/* Before the store is opened: refuse a missing or empty store that existed
 * (the marker in keys_dir says so), and --init over one that is there.
 * *fresh: a new store is about to be created. */
static int s_store_precheck(const struct config *cfg, int init, int *fresh)
{
	char marker[PATH_MAX + 32];
	struct stat sb;
	int missing, gone = 0, had;

	snprintf(marker, sizeof(marker), "%s/%s", cfg->keys_dir, DAEMON_STORE_MARKER);
	if (stat(cfg->store_path, &sb) < 0) {
		char dir[PATH_MAX];

		/* Only a missing file: a missing directory is a configuration
		 * mistake that store_open reports as such. */
		str_copy(dir, sizeof(dir), cfg->store_path);
		missing = gone = errno == ENOENT && access(dirname(dir), F_OK) == 0;
	} else
		missing = S_ISREG(sb.st_mode) && sb.st_size == 0;
	had = access(marker, F_OK) == 0;
	*fresh = missing;
	if (!missing && init) {
		log_err("--init: %s already holds a store; --init only creates one where there is "
			"none. To really start anew, move that file (and its -wal) aside first",
			cfg->store_path);
		return -EEXIST;
	}
	if (missing && had && !init) {
		log_err("the store %s is %s, but this installation had one (%s says so): refusing "
			"to start with a new, empty store, which would lose every leaver, dossier, "
			"consent and the audit log. Either " RESTORE_HINT ", or, to start anew with "
			"an empty store on purpose, run `overstapd --init` once",
			cfg->store_path, gone ? "missing" : "empty (0 bytes)", marker,
			cfg->store_path, cfg->store_path, cfg->store_path);
		return -ENOENT;
	}
	return 0;
}

/* After the store is open: leave the marker (again) so that losing the store
 * is noticed at the next start. Not fatal: only that check is lost. */
static void s_store_mark(const struct config *cfg, int fresh, int init)
{
	char marker[PATH_MAX + 32], line[PATH_MAX + 96], when[21];
	ssize_t w = -1;
	int fd;

	snprintf(marker, sizeof(marker), "%s/%s", cfg->keys_dir, DAEMON_STORE_MARKER);
	if (fresh)
		log_notice("created a new, empty store at %s%s", cfg->store_path,
			   init ? " (overstapd --init)" : "");
	if (!fresh && access(marker, F_OK) == 0)
		return;
	time_format_utc(time_now_ms(), when);
	snprintf(line, sizeof(line), "store %s %s %s\n", cfg->store_path,
		 fresh ? (init ? "created by overstapd --init" : "created") : "first seen", when);
	fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		w = write(fd, line, strlen(line));
	if (fd < 0 || w != (ssize_t)strlen(line) || fsync(fd) < 0)
		log_warn("cannot write %s: %s; a lost store would not be noticed at the next start",
			 marker, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* A delegate (overstap-web) serves many people at once: not held to the
 * per-user connection cap (ctlsock.h), under the configuration of now. */
static int s_delegate(void *arg, uid_t uid)
{
	const struct daemon *d = arg;

	return rights_is_delegate(d->cfg, uid);
}

int daemon_init(struct daemon *d, struct config *cfg)
{
	return daemon_init_store(d, cfg, 0);
}

int daemon_init_store(struct daemon *d, struct config *cfg, int init_store)
{
	int fresh = 0;
	char err[1024] = "";
	int r;

	memset(d, 0, sizeof(*d));
	d->cfg = cfg;
	d->sigfd = -1;
	d->started_at = time_now_ms();
	d->h = (struct hctx){ .cfg = cfg, .keys = &d->keys, .refusals = &d->refusals };
	d->net.h = &d->h;
	d->net.rl_reject = (struct ratelimit)RATELIMIT_INIT(10000, 20);
	if ((r = keys_load(cfg->keys_dir, &d->keys, err, sizeof(err))) < 0) {
		log_err("%s", err);
		return r;
	}
	if ((r = s_store_precheck(cfg, init_store, &fresh)) < 0)
		return r;
	/* The quick_check runs on a worker thread (store_check.c): a big store
	 * answers at once; a damaged one stops it when found (s_store_watch).
	 * The WAL is checkpointed on another (store_wal.c), off the loop. */
	if ((r = store_open_ex(cfg->store_path, d->keys.master,
			       STORE_OPEN_CHECK_LATER | STORE_OPEN_WAL_THREAD, &d->store, err,
			       sizeof(err))) < 0) {
		if (r == -EUCLEAN)
			log_err("the store is damaged: %s. Nothing was changed; " RESTORE_HINT, err,
				cfg->store_path, cfg->store_path, cfg->store_path);
		else
			log_err("cannot open the store: %s", err);
		return r;
	}
	s_store_mark(cfg, fresh, init_store);
	d->h.store = d->store;
	if ((r = s_signals_open(d)) < 0) {
		log_err("cannot set up signals: %s", strerror(-r));
		return r;
	}
	if ((r = net_open(&d->net)) < 0)
		return r;
	if ((r = control_open(&d->control, d->cfg)) < 0)
		return r;
	d->control.unlimited = s_delegate;
	d->control.unlimited_arg = d;
	return 0;
}

void daemon_fini(struct daemon *d)
{
	ctlsock_close(&d->control);
	net_close(&d->net);
	/* the refusals counted since the last hourly entry are not lost */
	if (rx_refusals_flush(&d->h, INT64_MAX) < 0)
		log_warn("cannot audit the refused registrations at shutdown");
	if (control_refused_flush(&d->h, &d->refused, INT64_MAX) < 0)
		log_warn("cannot audit the count of refused commands at shutdown");
	rx_refusals_clear(&d->refusals);
	strlist_clear(&d->reload.errors);
	import_sessions_clear(&d->h);	/* before the store: their tables are on it */
	store_close(&d->store);
	keys_clear(&d->keys);
	if (d->sigfd >= 0)
		close(d->sigfd);
	config_free(&d->cfg);
}

/* One line for `systemctl status`: what an administrator looks at first. */
static void s_notify_status(struct daemon *d)
{
	size_t up = 0, senders = 0;
	uint64_t queued = 0;

	for (size_t i = 0; i < d->net.n_peers; i++) {
		senders += d->net.peers[i].dealer != NULL;
		up += d->net.peers[i].connected;
		queued += d->net.peers[i].depth;
	}
	sd_notifyf(0, "STATUS=%s%s%zu of %zu peers connected, %llu queued, %llu rejected",
		   store_broken(d->store, NULL) ? "STORE DAMAGED, writes refused; " : "",
		   d->reload.failed_at ? "LAST RELOAD FAILED (overstap status); " : "", up,
		   senders, (unsigned long long)queued, (unsigned long long)d->net.rejected_total);
}

/* Once, when the store was first found damaged while running. */
/* The start's quick_check (store_check.c), collected once it is done: a
 * damaged store stops the daemon, as it was refused at start before the
 * check ran on its own thread (design.md §5.8); the writes of its first
 * seconds were refused from the moment the damage was known. Returns
 * -EUCLEAN to stop. */
static int s_store_watch(struct daemon *d)
{
	const char *why;
	int64_t ms = 0;
	int r;

	if (!d->store_check_told && (r = store_check_poll(d->store, &why, &ms)) != 1) {
		d->store_check_told = 1;
		if (r == 0) {
			log_info("the store passed PRAGMA quick_check (%lld ms)", (long long)ms);
		} else if (r == -EUCLEAN) {
			d->store_damage_told = 1;
			log_err("the store is damaged: %s: PRAGMA quick_check failed: %s. Stopping; "
				RESTORE_HINT, d->cfg->store_path, str_visbuf(why).s,
				d->cfg->store_path, d->cfg->store_path, d->cfg->store_path);
			return r;
		} else if (r != -ENOENT) {
			log_warn("cannot run PRAGMA quick_check on the store: %s (%s)", strerror(-r),
				 str_visbuf(why).s);
		}
	}
	if (d->store_damage_told || !store_broken(d->store, &why))
		return 0;
	d->store_damage_told = 1;
	log_err("the store %s is damaged (%s): from now on every write is refused (imports, "
		"handovers, dossiers received); reads and status still work. Check it with "
		"`overstap store check`, then " RESTORE_HINT, d->cfg->store_path,
		str_visbuf(why).s, d->cfg->store_path, d->cfg->store_path, d->cfg->store_path);
	s_notify_status(d);
	return 0;
}

/* Settings that only a restart can change: keep the running values. */
static void s_keep_fixed(const struct config *old, struct config *nc)
{
	static const struct {
		const char *name;
		size_t off, len;
	} fixed[] = {
		{ "[institution] id", offsetof(struct config, institution_id), sizeof(old->institution_id) },
		{ "[institution] keys_dir", offsetof(struct config, keys_dir), sizeof(old->keys_dir) },
		{ "[network] listen", offsetof(struct config, listen), sizeof(old->listen) },
		{ "[store] path", offsetof(struct config, store_path), sizeof(old->store_path) },
		{ "[control] socket", offsetof(struct config, control_socket), sizeof(old->control_socket) },
	};

	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++) {
		const char *o = (const char *)old + fixed[i].off;
		char *n = (char *)nc + fixed[i].off;

		if (strcmp(o, n) != 0) {
			log_warn("reload: %s changed; that takes a restart, keeping %s", fixed[i].name,
				 str_visbuf(o).s);
			memcpy(n, o, fixed[i].len);
		}
	}
}

/* Our own key files on reload: *nk gets them when they differ from the
 * running ones (a `keys activate`), else stays empty. A new master key is
 * refused: the store is bound to the old one. */
static int s_keys_reread(struct daemon *d, struct keys *nk, struct strlist *why)
{
	char err[1024] = "";
	int r = keys_load(d->cfg->keys_dir, nk, err, sizeof(err));

	if (r < 0) {
		log_err("reload failed: %s; keeping the running configuration", err);
		strlist_addf(why, "%s", err);
		return r;
	}
	if (memcmp(nk->master, d->keys.master, CRYPTO_KEY_LEN) != 0) {
		log_err("reload failed: master.key changed; the store can only be read with the "
			"one it was created with; keeping the running configuration");
		strlist_addf(why, "%s/master.key changed; the store can only be read with the one "
			     "it was created with", d->cfg->keys_dir);
		keys_clear(nk);
		return -EKEYREJECTED;
	}
	if (strcmp(nk->curve_public, d->keys.curve_public) == 0 &&
	    memcmp(nk->sign_public, d->keys.sign_public, sizeof(nk->sign_public)) == 0)
		keys_clear(nk);
	return 0;
}

/* Re-sign a batch of queued messages as one group and store each. */
static int s_resign_group(struct daemon *d, struct outbox_msg *m, size_t cnt, uint64_t *n)
{
	const uint8_t *in[OUTBOX_GROUP_MAX] = { 0 };
	size_t len[OUTBOX_GROUP_MAX] = { 0 }, out_len[OUTBOX_GROUP_MAX] = { 0 };
	uint8_t *out[OUTBOX_GROUP_MAX] = { 0 };
	int r;

	for (size_t j = 0; j < cnt; j++) {
		in[j] = m[j].packed;
		len[j] = m[j].len;
	}
	r = envelope_resign_group(in, len, cnt, d->keys.signer, out, out_len);
	for (size_t j = 0; j < cnt; j++) {
		free(m[j].packed);
		m[j].packed = out[j];	/* NULL after a failure: freed by the caller */
		m[j].len = out_len[j];
		if (r == 0 && (r = store_outbox_replace(d->store, &m[j])) == 0)
			(*n)++;
	}
	return r;
}

/* Queued and parked messages were signed with the old key; after the peers'
 * rollover windows close that signature would be refused, so sign them
 * again, OUTBOX_GROUP_MAX to a signature (design.md §4.8). */
static void s_outbox_resign(struct daemon *d)
{
	uint64_t n = 0;
	int r = store_begin(d->store);

	for (size_t i = 0; i < d->net.n_peers && r == 0; i++) {
		char cursor[CRYPTO_UUID_STR_LEN + 1] = "";
		struct outbox_msg *m = NULL;
		size_t cnt;

		do {
			cnt = 0;
			r = store_outbox_unsent(d->store, d->net.peers[i].cfg.id, cursor,
						OUTBOX_GROUP_MAX, &m, &cnt);
			if (r == 0 && cnt)
				r = s_resign_group(d, m, cnt, &n);
			for (size_t j = 0; j < cnt; j++) {
				str_copy(cursor, sizeof(cursor), m[j].message_id);
				free(m[j].packed);
			}
			free(m);
			m = NULL;
		} while (r == 0 && cnt == OUTBOX_GROUP_MAX);
	}
	if (r == 0 && (r = store_commit(d->store)) == 0) {
		log_notice("re-signed %llu queued and parked messages with the new key", (unsigned long long)n);
		return;
	}
	store_rollback(d->store);
	log_err("cannot re-sign the queued messages: %s; they go out with the old signature, "
		"accepted until the peers' rollover windows close", strerror(-r));
}

/* Put the activated keys in place: new connections everywhere. On failure
 * the old keys are back and nothing changed. */
static int s_rekey(struct daemon *d, struct config *nc, struct keys *nk)
{
	struct keys old = d->keys;
	int r;

	d->keys = *nk;
	*nk = old;	/* nk now holds the old set, cleared by the caller */
	if ((r = net_peers_apply(&d->net, nc, 1)) < 0) {
		old = d->keys;
		d->keys = *nk;
		*nk = old;
		return r;
	}
	if (net_router_rekey(&d->net) < 0)
		log_err("the new keys are in use for sending, but listening failed: restart overstapd");
	s_outbox_resign(d);
	log_notice("own keys changed: now CURVE %s; peers must admit it (keys rotate/activate)",
		   d->keys.curve_public);
	if (store_auditf(d->store, "daemon", "key.activated", "", "", "{s:o}",
			  "curve_public", jdetail_text(d->keys.curve_public)) < 0)
		log_err("cannot write the audit log");
	return 0;
}

/* Keep why a reload failed for status, or that it worked. */
static void s_reload_record(struct daemon *d, int r, struct strlist *why)
{
	strlist_clear(&d->reload.errors);
	if (r < 0) {
		d->reload.failed_at = time_now_ms();
		d->reload.errors = *why;	/* taken */
		*why = (struct strlist){ 0 };
		return;
	}
	d->reload.ok_at = time_now_ms();
	d->reload.failed_at = 0;
	strlist_clear(why);
}

static int s_reload(struct daemon *d, struct strlist *why)
{
	struct config *nc = NULL;
	struct keys nk = { 0 };
	int r = config_load(d->cfg->path, &nc, why);

	if (r < 0) {
		for (size_t i = 0; i < why->n; i++)
			log_err("%s", str_visbuf(why->v[i]).s);	/* quotes the file */
		if (!why->n)
			strlist_addf(why, "%s: %s", d->cfg->path, strerror(-r));
		log_errf(&((struct log_fields){ .id = LOG_ID_RELOAD_FAILED }),
			 "reload failed: keeping the running configuration");
		return r;
	}
	s_keep_fixed(d->cfg, nc);
	if ((r = s_keys_reread(d, &nk, why)) < 0) {
		config_free(&nc);
		return r;
	}
	r = nk.signer ? s_rekey(d, nc, &nk) : net_peers_apply(&d->net, nc, 0);
	keys_clear(&nk);
	if (r < 0) {
		const char *what = r == -EMFILE ? "[network] max_connections does not fit the "
						  "descriptor limit" : "a peer could not be set up";

		log_errf(&((struct log_fields){ .id = LOG_ID_RELOAD_FAILED }),
			 "reload failed: %s; keeping the running configuration", what);
		strlist_addf(why, "%s: %s (see the log)", d->cfg->path, what);
		config_free(&nc);
		return r;
	}
	config_free(&d->cfg);
	d->cfg = nc;
	d->h.cfg = nc;
	if (!d->log_forced)
		log_set_level_name(d->cfg->log_level);
	log_notice("configuration reloaded: %zu peer%s", d->net.n_peers,
		   d->net.n_peers == 1 ? "" : "s");
	return r;
}

int daemon_reload(struct daemon *d)
{
	struct strlist why = { 0 };
	int r;

	/* systemd holds `systemctl reload` until READY=1 comes back. */
	sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration");
	r = s_reload(d, &why);
	s_reload_record(d, r, &why);
	s_notify_status(d);
	sd_notify(0, "READY=1");
	return r;
}

static void s_signals_handle(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			daemon_reload(d);
		else
			d->stop = 1;
	}
}

/* The daily retention job (first run at start), the hourly audit of refused
 * registrations, and the WAL truncated after anything was shredded, so no
 * old page with a wrapped key stays in it. */
static void s_housekeeping(struct daemon *d, int64_t now)
{
	int r;

	/* not before the store passed its quick_check: no erasure in a damaged
	 * file; then in slices of ~10 ms, one a turn of the loop (design.md §3.10) */
	if (d->retention_more || (now >= d->retention_next && d->store_check_told)) {
		if (!d->retention_more) {
			d->retention_next = now + 86400LL * 1000;
			memset(&d->retention, 0, sizeof(d->retention));
		}
		r = erasure_retention_step(&d->h, 10, &d->retention);
		d->retention_more = r == 1;
		if (r < 0)
			log_err("retention job failed (retried tomorrow or at restart): %s", strerror(-r));
	}
	/* one registration.refused entry per peer and hour, never one per probe,
	 * written within a minute of the hour's end; a failure leaves the windows
	 * open for the next minute */
	if (now >= d->refusals_next) {
		d->refusals_next = now + 60 * 1000;
		if ((r = rx_refusals_flush(&d->h, time_now_ms())) < 0)
			log_warn("cannot audit refused registrations (retried): %s", strerror(-r));
		if ((r = control_refused_flush(&d->h, &d->refused, time_now_ms())) < 0)
			log_warn("cannot audit the count of refused commands (retried): %s",
				 strerror(-r));
	}
	import_sessions_expire(&d->h, now);
	/* a settled Registration (its PGN under the outbox key) emptied: nor is
	 * its old page left in the -wal file (issue 16 item 3); and a
	 * truncation that waited for a backup or a store check to end */
	if (store_outbox_shredded(d->store) || store_wal_truncate_due(d->store))
		d->h.wal_dirty = 1;
	if (d->h.wal_dirty) {
		d->h.wal_dirty = 0;
		net_quota_recount(&d->net);	/* dossiers were erased: quotas count again */
		if ((r = store_checkpoint_wal(d->store)) < 0)
			log_warn("cannot truncate the store's WAL after an erasure: %s", strerror(-r));
	}
}

/* The daemon's own slot first, then the control socket's (its listener and
 * connections, ctlsock_poll_fill), then the transport's (net_poll_fill). */
enum { PI_SIG, PI__FIXED };

int daemon_run(struct daemon *d)
{
	zmq_pollitem_t *items = NULL;
	size_t cap = 0;
	int r = 0;

	int64_t status_next = 0;

	/* The store is open and every socket is bound: systemd may start what
	 * depends on us. The watchdog is pinged from this loop (and by a long
	 * step as it gets on, watchdog.h), so a loop that hangs (a stuck store,
	 * a blocking call) gets us restarted. */
	watchdog_init();
	log_notice("overstapd %s running as %s with %zu peer%s", OVERSTAP_VERSION,
		   d->cfg->institution_id, d->net.n_peers, d->net.n_peers == 1 ? "" : "s");
	s_notify_status(d);
	sd_notify(0, "READY=1");
	while (!d->stop) {
		int64_t wake = 1000, now = time_mono_ms();
		struct ctl_env env;
		size_t n = PI__FIXED, nctl;
		int rc;

		int64_t wd = watchdog_tick(now);

		/* a long step's progress showed in STATUS=: ours again at once */
		if (now >= status_next || watchdog_status_taken()) {
			s_notify_status(d);
			status_next = now + 10000;
		}
		if (wd < wake)
			wake = wd;
		if (!d->store_check_told)	/* collect the quick_check soon after it ends */
			wake = wake < 100 ? wake : 100;
		s_housekeeping(d, now);
		if (d->retention_more)	/* the next slice after what came in meanwhile */
			wake = 0;
		spool_run(&d->spool, &d->h, now, &wake);
		/* an erasure or retention since the last pump cancelled queued
		 * rows: their copies in memory go before anything is sent */
		if (store_outbox_cancelled(d->store))
			net_outbox_recheck(&d->net);
		net_pump(&d->net, &wake);
		nctl = ctlsock_poll_count(&d->control);
		if (!items || cap < PI__FIXED + nctl + net_poll_count(&d->net)) {
			size_t ncap = PI__FIXED + nctl + net_poll_count(&d->net);
			zmq_pollitem_t *ni = realloc(items, ncap * sizeof(*ni));
			if (!ni) {
				r = -ENOMEM;
				break;
			}
			items = ni;
			cap = ncap;
		}
		items[PI_SIG] = (zmq_pollitem_t){ .fd = d->sigfd, .events = ZMQ_POLLIN };
		nctl = ctlsock_poll_fill(&d->control, items + PI__FIXED);
		n = PI__FIXED + nctl + net_poll_fill(&d->net, items + PI__FIXED + nctl);
		switch (ctlsock_busy(&d->control)) {
		case 1:
			wake = 0;	/* a `handover send` has its next chunk to queue */
			break;
		case 2:		/* a `store check` runs on its thread: look soon */
			wake = wake < CTLSOCK_WAIT_MS ? wake : CTLSOCK_WAIT_MS;
			break;
		}
		rc = zmq_poll(items, (int)n, (long)wake);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			log_err("poll failed: %s", zmq_strerror(errno));
			break;
		}
		net_poll_handle(&d->net, items + PI__FIXED + nctl, n - PI__FIXED - nctl);
		env = (struct ctl_env){ .h = &d->h, .net = &d->net, .reload = &d->reload,
					.started_at = d->started_at, .spool = &d->spool,
					.refused = &d->refused,
					.defer = 1 };
		/* idle connections are looked at every round; the loop wakes at
		 * least once a second, far finer than CTLSOCK_IDLE_MS. A long
		 * request runs a step a round, the network served in between. */
		ctlsock_handle(&d->control, items + PI__FIXED, nctl,
			       &(struct ctlsock_ops){ .answer = control_answer,
						      .step = control_step,
						      .drop = control_drop },
			       &env, time_mono_ms());
		/* Whatever a handler queued (handovers, receipts, outcomes) goes out
		 * now rather than at the next tick. */
		if (d->h.outbox_dirty) {
			d->h.outbox_dirty = 0;
			net_outbox_changed(&d->net);
		}
		if ((r = s_store_watch(d)) < 0)
			break;
		/* Last: a reload replaces the peer array. */
		if (items[PI_SIG].revents & ZMQ_POLLIN)
			s_signals_handle(d);
	}
	free(items);
	sd_notify(0, "STOPPING=1");
	log_notice("stopping");
	return r;
}
