/*
 * mod_h2x: the stream worker pool of a child process.
 *
 * H2XMinWorkers threads start with the child; more are started on demand
 * up to H2XMaxWorkers and end again after H2XMaxWorkerIdleSeconds idle.
 * Streams wait in one FIFO; each connection puts at most its share of
 * the pool there (h2x_apache_workers_may_add), so that one client with
 * many slow streams cannot make every other wait.  The threads are
 * joined from a pre-cleanup of the child pool, so a graceful restart or
 * stop waits for them (each stream's waits are bounded by its timeout,
 * and its connection aborts it first).  They are not counted by
 * MaxRequestWorkers.
 */

#include "apr_thread_proc.h"
#include "apr_thread_mutex.h"
#include "apr_thread_cond.h"

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "ap_mpm.h"

#include "h2x_apache.h"

APLOG_USE_MODULE(h2x);


typedef struct {
    apr_pool_t                *pool;
    apr_thread_mutex_t        *lock;
    apr_thread_cond_t         *cond;
    h2x_apache_stream_t       *head;
    h2x_apache_stream_t       *tail;
    apr_array_header_t        *threads;   /* every thread ever started */
    server_rec                *s;
    apr_interval_time_t        idle_timeout;
    int                        queued;
    int                        running;
    int                        idle;
    int                        busy;
    int                        min;
    int                        max;
    int                        conns;     /* connections with streams in */
    int                        shutdown;
} h2x_apache_workers_t;


static h2x_apache_workers_t  *h2x_apache_workers;


static void *APR_THREAD_FUNC h2x_apache_worker_main(apr_thread_t *thread,
                                                   void *data);


/* Start one more thread.  Called with w->lock held. */
static apr_status_t
h2x_apache_worker_start(h2x_apache_workers_t *w)
{
    apr_thread_t  *t;
    apr_status_t   rv;

    rv = ap_thread_create(&t, NULL, h2x_apache_worker_main, w, w->pool);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, w->s, APLOGNO(10730)
                     "h2x: cannot start a stream worker");
        return rv;
    }

    APR_ARRAY_PUSH(w->threads, apr_thread_t *) = t;
    w->running++;

    return APR_SUCCESS;
}


static void *APR_THREAD_FUNC
h2x_apache_worker_main(apr_thread_t *thread, void *data)
{
    h2x_apache_workers_t  *w = data;
    h2x_apache_stream_t   *hs;
    apr_status_t           rv;

    apr_thread_mutex_lock(w->lock);

    for ( ;; ) {
        while (w->head == NULL && !w->shutdown) {
            w->idle++;
            if (w->running > w->min) {
                rv = apr_thread_cond_timedwait(w->cond, w->lock,
                                               w->idle_timeout);
            } else {
                rv = apr_thread_cond_wait(w->cond, w->lock);
            }
            w->idle--;

            if (APR_STATUS_IS_TIMEUP(rv) && w->head == NULL
                && w->running > w->min)
            {
                goto out;
            }
        }

        if (w->head == NULL) {
            break;
        }

        hs = w->head;
        w->head = hs->job_next;
        if (w->head == NULL) {
            w->tail = NULL;
        }
        hs->job_next = NULL;
        w->queued--;
        w->busy++;

        apr_thread_mutex_unlock(w->lock);

        h2x_apache_stream_process(hs, thread);

        apr_thread_mutex_lock(w->lock);
        w->busy--;
    }

out:

    w->running--;
    apr_thread_mutex_unlock(w->lock);

    apr_thread_exit(thread, APR_SUCCESS);

    return NULL;
}


void
h2x_apache_workers_push(h2x_apache_stream_t *hs)
{
    h2x_apache_workers_t  *w = h2x_apache_workers;

    apr_thread_mutex_lock(w->lock);

    hs->job_next = NULL;
    if (w->tail) {
        w->tail->job_next = hs;
    } else {
        w->head = hs;
    }
    w->tail = hs;
    w->queued++;

    if (w->idle < w->queued && w->running < w->max && !w->shutdown) {
        (void) h2x_apache_worker_start(w);
    }

    apr_thread_cond_signal(w->cond);

    apr_thread_mutex_unlock(w->lock);
}


/* Take a stream back that no worker has started yet. */
int
h2x_apache_workers_cancel(h2x_apache_stream_t *hs)
{
    h2x_apache_workers_t  *w = h2x_apache_workers;
    h2x_apache_stream_t   *p, *prev = NULL;
    int                    found = 0;

    apr_thread_mutex_lock(w->lock);

    for (p = w->head; p; prev = p, p = p->job_next) {
        if (p == hs) {
            if (prev) {
                prev->job_next = p->job_next;
            } else {
                w->head = p->job_next;
            }
            if (w->tail == p) {
                w->tail = prev;
            }
            p->job_next = NULL;
            w->queued--;
            found = 1;
            break;
        }
    }

    apr_thread_mutex_unlock(w->lock);

    return found;
}


void
h2x_apache_workers_stats(int *threads, int *busy, int *queued)
{
    h2x_apache_workers_t  *w = h2x_apache_workers;

    if (w == NULL) {
        *threads = *busy = *queued = 0;
        return;
    }

    apr_thread_mutex_lock(w->lock);
    *threads = w->running;
    *busy = w->busy;
    *queued = w->queued;
    apr_thread_mutex_unlock(w->lock);
}


/*
 * May a connection with `running` streams in the pool add one more?  Yes
 * while it is under its share: the pool divided among the connections
 * using it plus one more (a newcomer finds threads free), at least
 * H2X_APACHE_CONN_MIN_WORKERS.  Beyond its share only while more than
 * H2X_APACHE_CONN_MIN_WORKERS threads of the pool stay free for others:
 * many connections with quick streams keep the whole pool busy, and one
 * connection with slow streams cannot take the last threads.
 */
int
h2x_apache_workers_may_add(int running)
{
    h2x_apache_workers_t  *w = h2x_apache_workers;
    int                    share, room;

    if (w == NULL) {
        return running < H2X_APACHE_CONN_MIN_WORKERS;
    }

    apr_thread_mutex_lock(w->lock);
    share = w->max / (w->conns + 1);
    room = w->max - w->busy - w->queued;
    apr_thread_mutex_unlock(w->lock);

    if (share < H2X_APACHE_CONN_MIN_WORKERS) {
        share = H2X_APACHE_CONN_MIN_WORKERS;
    }

    return running < share || room > H2X_APACHE_CONN_MIN_WORKERS;
}


/* A connection starts (+1) or stops (-1) having streams in the pool. */
void
h2x_apache_workers_conn_busy(int delta)
{
    h2x_apache_workers_t  *w = h2x_apache_workers;

    if (w == NULL) {
        return;
    }

    apr_thread_mutex_lock(w->lock);
    w->conns += delta;
    apr_thread_mutex_unlock(w->lock);
}


static apr_status_t
h2x_apache_workers_cleanup(void *data)
{
    h2x_apache_workers_t  *w = data;
    apr_status_t           rv;
    int                    i;

    apr_thread_mutex_lock(w->lock);
    w->shutdown = 1;
    apr_thread_cond_broadcast(w->cond);
    apr_thread_mutex_unlock(w->lock);

    for (i = 0; i < w->threads->nelts; i++) {
        apr_thread_join(&rv, APR_ARRAY_IDX(w->threads, i, apr_thread_t *));
    }

    h2x_apache_workers = NULL;

    return APR_SUCCESS;
}


apr_status_t
h2x_apache_workers_child_init(apr_pool_t *pchild, server_rec *s)
{
    h2x_apache_workers_t  *w;
    apr_allocator_t       *al;
    apr_thread_mutex_t    *al_mutex;
    apr_status_t           rv;
    int                    threads = 0, i;

    rv = apr_allocator_create(&al);
    if (rv != APR_SUCCESS) {
        return rv;
    }

    w = apr_pcalloc(pchild, sizeof(*w));

    rv = apr_pool_create_ex(&w->pool, pchild, NULL, al);
    if (rv != APR_SUCCESS) {
        apr_allocator_destroy(al);
        return rv;
    }
    apr_allocator_owner_set(al, w->pool);
    apr_pool_tag(w->pool, "h2x_workers");

    /* threads are started from any connection thread: lock the pool */
    rv = apr_thread_mutex_create(&al_mutex, APR_THREAD_MUTEX_DEFAULT,
                                 w->pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_allocator_mutex_set(al, al_mutex);

    rv = apr_thread_mutex_create(&w->lock, APR_THREAD_MUTEX_DEFAULT,
                                 w->pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }

    rv = apr_thread_cond_create(&w->cond, w->pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }

    (void) ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads);

    w->s = s;
    w->min = h2x_apache_global.min_workers > 0
             ? h2x_apache_global.min_workers : (threads > 0 ? threads : 25);
    w->max = h2x_apache_global.max_workers > 0
             ? h2x_apache_global.max_workers : w->min * 3 / 2;
    if (w->max < 4) {
        w->max = 4;
    }
    if (w->min > w->max) {
        w->min = w->max;
    }
    w->idle_timeout = apr_time_from_sec(
        h2x_apache_global.idle_seconds > 0 ? h2x_apache_global.idle_seconds
                                           : 600);
    w->threads = apr_array_make(w->pool, w->max, sizeof(apr_thread_t *));

    h2x_apache_workers = w;

    apr_pool_pre_cleanup_register(pchild, w, h2x_apache_workers_cleanup);

    apr_thread_mutex_lock(w->lock);
    for (i = 0; i < w->min; i++) {
        if (h2x_apache_worker_start(w) != APR_SUCCESS) {
            break;
        }
    }
    apr_thread_mutex_unlock(w->lock);

    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, APLOGNO(10731)
                 "h2x: %d stream workers started (at most %d)", w->running,
                 w->max);

    return APR_SUCCESS;
}
