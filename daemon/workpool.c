/* workpool: helper threads sharing a parallel for (see workpool.h). One
 * job at a time: the caller publishes it under the lock and takes items
 * itself; helpers wake on a new generation and take items until none are
 * left. The caller returns only when every item of its job has finished,
 * so no helper still runs fn on a job's context after workpool_for. */
#include "workpool.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

struct workpool {
	pthread_mutex_t lock;
	pthread_cond_t work;		/* a new job, or stop */
	pthread_cond_t done;		/* the job's last item finished */
	pthread_t threads[WORKPOOL_MAX_HELPERS];
	unsigned n_threads;
	/* the job (under lock) */
	void (*fn)(void *ctx, size_t i);
	void *ctx;
	size_t n, next, finished;
	size_t step;			/* items taken at once */
	unsigned long gen;
	int stop;
};

/* Take and run items of the current job, step at a time, until none are
 * left; called and returns with the lock held. Items of the store's seals
 * take a few µs: taken one by one, the caller and the helper spent about as
 * long handing the lock to each other (issue 14). */
static void s_drain(struct workpool *wp)
{
	while (wp->next < wp->n) {
		size_t i = wp->next, end = wp->n - i > wp->step ? i + wp->step : wp->n;
		void (*fn)(void *, size_t) = wp->fn;
		void *ctx = wp->ctx;

		wp->next = end;
		pthread_mutex_unlock(&wp->lock);
		for (size_t k = i; k < end; k++)
			fn(ctx, k);
		pthread_mutex_lock(&wp->lock);
		wp->finished += end - i;
		if (wp->finished == wp->n)
			pthread_cond_signal(&wp->done);
	}
}

static void *s_helper(void *arg)
{
	struct workpool *wp = arg;
	unsigned long seen = 0;

	pthread_mutex_lock(&wp->lock);
	for (;;) {
		while (!wp->stop && wp->gen == seen)
			pthread_cond_wait(&wp->work, &wp->lock);
		if (wp->stop)
			break;
		seen = wp->gen;
		s_drain(wp);
	}
	pthread_mutex_unlock(&wp->lock);
	return NULL;
}

unsigned workpool_helpers_for_cpus(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus <= 1)
		return 0;
	return cpus - 1 > WORKPOOL_MAX_HELPERS ? WORKPOOL_MAX_HELPERS : (unsigned)(cpus - 1);
}

struct workpool *workpool_new(unsigned helpers)
{
	struct workpool *wp = calloc(1, sizeof(*wp));
	sigset_t all, old;

	if (!wp)
		return NULL;
	if (helpers > WORKPOOL_MAX_HELPERS)
		helpers = WORKPOOL_MAX_HELPERS;
	pthread_mutex_init(&wp->lock, NULL);
	pthread_cond_init(&wp->work, NULL);
	pthread_cond_init(&wp->done, NULL);
	/* Helpers start with every signal blocked: signals stay the loop's
	 * (signalfd), whenever the loop blocks them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (; wp->n_threads < helpers; wp->n_threads++)
		if (pthread_create(&wp->threads[wp->n_threads], NULL, s_helper, wp) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (wp->n_threads < helpers)
		workpool_free(&wp);
	return wp;
}

void workpool_free(struct workpool **wpp)
{
	struct workpool *wp = wpp ? *wpp : NULL;

	if (!wp)
		return;
	pthread_mutex_lock(&wp->lock);
	wp->stop = 1;
	pthread_cond_broadcast(&wp->work);
	pthread_mutex_unlock(&wp->lock);
	for (unsigned i = 0; i < wp->n_threads; i++)
		pthread_join(wp->threads[i], NULL);
	pthread_cond_destroy(&wp->work);
	pthread_cond_destroy(&wp->done);
	pthread_mutex_destroy(&wp->lock);
	free(wp);
	*wpp = NULL;
}

void workpool_for(struct workpool *wp, size_t n, void (*fn)(void *ctx, size_t i), void *ctx)
{
	if (!wp || wp->n_threads == 0 || n < 2) {
		for (size_t i = 0; i < n; i++)
			fn(ctx, i);
		return;
	}
	pthread_mutex_lock(&wp->lock);
	wp->fn = fn;
	wp->ctx = ctx;
	wp->n = n;
	/* a few steps per thread, so that one slow item does not leave the
	 * others idle for long */
	wp->step = n / (4 * (size_t)(wp->n_threads + 1));
	if (wp->step == 0)
		wp->step = 1;
	wp->next = wp->finished = 0;
	wp->gen++;
	pthread_cond_broadcast(&wp->work);
	s_drain(wp);
	while (wp->finished < wp->n)
		pthread_cond_wait(&wp->done, &wp->lock);
	wp->fn = NULL;
	wp->ctx = NULL;
	wp->n = wp->next = wp->finished = 0;
	pthread_mutex_unlock(&wp->lock);
}
