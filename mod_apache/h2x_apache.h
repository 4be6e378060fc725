/*
 * mod_h2x: private declarations shared by the files of the adapter.
 *
 * Threads and ownership
 *
 *   c1 thread   the MPM thread that runs process_connection for a claimed
 *               connection: it owns the engine session, the c1 filters,
 *               the c1 pools and every stream pool (created and destroyed
 *               there only).
 *   workers     our own threads (h2x_apache_workers.c): each runs one
 *               stream at a time through ap_process_request() on the
 *               stream's secondary connection (c2), whose pool it owns
 *               while the stream is handed off.
 *
 * What crosses between them lives in h2x_apache_stream_t, guarded by the
 * connection mutex: malloc()ed byte chunks and header blocks, flags and
 * counters.  Never a bucket, a brigade or pool memory.
 */

#ifndef H2X_APACHE_H
#define H2X_APACHE_H

#include "apr.h"
#include "apr_atomic.h"
#include "apr_pools.h"
#include "apr_poll.h"
#include "apr_thread_mutex.h"
#include "apr_thread_cond.h"
#include "apr_tables.h"

#include "httpd.h"
#include "http_config.h"

#include "h2x.h"
#include "h2x_hpack.h"
#include "h2x_session.h"


#define H2X_APACHE_UNSET            -1

/* stream errors logged per connection (connection errors always are) */
#define H2X_APACHE_MAX_LOG          32

#define H2X_APACHE_NET_IN           "H2X_NET_IN"
#define H2X_APACHE_NET_OUT          "H2X_NET_OUT"
#define H2X_APACHE_RESPONSE         "H2X_RESPONSE"
#define H2X_APACHE_STATUS_HANDLER   "h2x-status"

/* a connection may always have this many streams in the worker pool */
#define H2X_APACHE_CONN_MIN_WORKERS 4
/* a parked connection that served at most this many requests gives back the
 * engine's tables at once; a busier one keeps them for its next burst */
#define H2X_APACHE_SHRINK_STREAMS   16
/* quiet time before an idle connection goes back to mpm_event */
#define H2X_APACHE_PARK_GRACE       apr_time_from_msec(100)


/* --- configuration (h2x_apache_config.c) ------------------------------ */

typedef struct {
    int                        engine;            /* H2XEngine */
    int                        direct;            /* H2XDirect */
    int                        modern_tls_only;   /* H2XModernTLSOnly */
    apr_int64_t                max_session_streams;
    apr_int64_t                window_size;
    apr_int64_t                connection_window_size;
    apr_int64_t                stream_max_mem_size;
    apr_int64_t                max_header_list_size;
    apr_int64_t                max_field_size;
    apr_int64_t                max_header_fields;
    apr_int64_t                max_continuations;
    apr_int64_t                max_frame_size;
    apr_int64_t                header_table_size;
    apr_int64_t                max_requests;
    apr_int64_t                max_unsent_output;
    apr_int64_t                max_response_header_size;
    apr_int64_t                max_control_queue;
    apr_int64_t                max_settings_entries;
    apr_int64_t                max_new_streams_per_read;
    apr_int64_t                rst_burst;
    apr_int64_t                rst_rate;
    apr_int64_t                glitch_burst;
    apr_int64_t                glitch_rate;
    apr_int64_t                max_stream_errors;
    apr_int64_t                max_priority_updates;
    apr_int64_t                settings_timeout;
    apr_int64_t                header_timeout;     /* seconds, 0: none */
    apr_int64_t                stream_timeout;     /* seconds, 0: Timeout */
} h2x_apache_srv_conf_t;

typedef struct {
    int                        min_workers;       /* H2XMinWorkers */
    int                        max_workers;       /* H2XMaxWorkers */
    int                        idle_seconds;      /* H2XMaxWorkerIdleSeconds */
} h2x_apache_global_conf_t;

/* per directory: 103 Early Hints (H2XEarlyHints, H2XEarlyHint) */
typedef struct {
    int                        early_hints;       /* -1: unset */
    apr_table_t               *early_headers;
} h2x_apache_dir_conf_t;

extern const command_rec       h2x_apache_cmds[];
extern h2x_apache_global_conf_t  h2x_apache_global;

void *h2x_apache_create_srv_conf(apr_pool_t *p, server_rec *s);
void *h2x_apache_merge_srv_conf(apr_pool_t *p, void *basev, void *addv);
void *h2x_apache_create_dir_conf(apr_pool_t *p, char *dir);
void *h2x_apache_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
h2x_apache_srv_conf_t *h2x_apache_srv_conf(server_rec *s);
int h2x_apache_engine_enabled(server_rec *s);
void h2x_apache_engine_config(server_rec *s, h2x_config_t *cfg);
apr_interval_time_t h2x_apache_stream_timeout(server_rec *s);
apr_size_t h2x_apache_stream_mem(server_rec *s);
void h2x_apache_config_pre(void);


/* --- takeover (h2x_apache_proto.c) ------------------------------------ */

extern int                     h2x_apache_mpm_ok;   /* threaded MPM */
extern int                     h2x_apache_mpm_async;  /* mpm_event */
extern int                     h2x_apache_mpm_waitio; /* ASYNC_WAITIO */
extern module                 *h2x_apache_mpm_module;

void h2x_apache_proto_register_hooks(void);
int h2x_apache_proto_post_config(apr_pool_t *pconf, server_rec *s);
int h2x_apache_is_h2x(conn_rec *c);


/* --- per connection and per stream ------------------------------------ */

typedef struct h2x_apache_conn_s     h2x_apache_conn_t;
typedef struct h2x_apache_stream_s   h2x_apache_stream_t;
typedef struct h2x_apache_chunk_s    h2x_apache_chunk_t;
typedef struct h2x_apache_block_s    h2x_apache_block_t;


/* Body bytes, malloc()ed, owned by one side at a time. */
struct h2x_apache_chunk_s {
    h2x_apache_chunk_t        *next;
    h2x_apache_chunk_t        *eprev;     /* c1: chunks in the engine */
    h2x_apache_chunk_t        *enext;
    h2x_apache_stream_t       *stream;
    apr_size_t                 len;
    apr_size_t                 cap;
    apr_size_t                 pos;       /* request side: bytes taken */
    int                        fd;        /* >= 0: a file range, no data */
    apr_off_t                  foff;
    uint8_t                    data[1];
};


/* A header block (interim, final or trailers): one malloc()ed piece. */
struct h2x_apache_block_s {
    h2x_apache_block_t        *next;
    unsigned                   status;    /* 0: trailers */
    apr_size_t                 n;
    h2x_header_t              *fields;
};


struct h2x_apache_stream_s {
    h2x_apache_conn_t         *conn;
    apr_uint32_t               id;
    apr_pool_t                *pool;      /* c1 creates and destroys it */

    /* the request, built on c1 before the hand-off, read-only after */
    const char                *method;
    const char                *scheme;
    const char                *authority;
    const char                *path;
    const char                *protocol;
    const char                *tag;       /* H2_STREAM_TAG */
    apr_array_header_t        *fields;    /* name, value, name, ... */
    apr_off_t                  content_length;
    unsigned                   has_body:1;
    conn_rec                  *c2;

    /* shared: under conn->mutex */
    apr_thread_cond_t         *cond;      /* worker waits here */
    h2x_apache_chunk_t        *in_head;
    h2x_apache_chunk_t        *in_tail;
    h2x_apache_block_t        *in_trailers;
    apr_size_t                 in_consumed;    /* credit c1 has to give */
    h2x_apache_chunk_t        *out_head;
    h2x_apache_chunk_t        *out_tail;
    /* atomic: response bytes queued (shared + in the engine), and "the
     * worker waits for room", so that c1 releases chunks without the lock
     * and takes it only to wake the worker */
    volatile apr_uint32_t      out_mem;
    volatile apr_uint32_t      out_waiting;
    h2x_apache_block_t        *hdr_head;       /* 1xx and final */
    h2x_apache_block_t        *hdr_tail;
    h2x_apache_block_t        *trailers;
    h2x_apache_stream_t       *dirty_next;
    h2x_apache_stream_t       *job_next;
    unsigned                   in_eos:1;
    unsigned                   out_eos:1;
    unsigned                   aborted:1;      /* client or c1 gave up */
    unsigned                   worker_done:1;
    unsigned                   dirty:1;
    unsigned                   waiting:1;      /* worker in cond wait */

    /* c1 only */
    h2x_stream_t              *st;             /* NULL once released */
    h2x_apache_stream_t       *all_next;
    h2x_apache_stream_t       *all_prev;
    apr_size_t                 engine_chunks;  /* chunks in the engine */
    apr_time_t                 progress;       /* output last moved */
    unsigned                   final_sent:1;
    unsigned                   end_sent:1;
    unsigned                   complete:1;     /* END_STREAM queued */
    unsigned                   closed:1;
    unsigned                   handed_off:1;
    unsigned                   done_seen:1;
    unsigned                   scheduled:1;    /* in the worker pool */
    h2x_apache_stream_t       *pend_next;      /* waits for the share */

    /* worker only */
    apr_interval_time_t        timeout;
    apr_size_t                 max_mem;
    unsigned                   headers_done:1; /* final block handed over */
    unsigned                   header_refused:1; /* too large: a 500 */
    unsigned                   broken:1;       /* error after the head */
    unsigned                   chunked_in:1;   /* present the body chunked */
    h2x_chunked_t              chunking;       /* the engine's framing */
    h2x_apache_chunk_t        *cur;            /* being filled */
    apr_size_t                 cur_cap;
    h2x_apache_block_t        *w_trailers;     /* from r->trailers_out */
    char                      *stage;          /* request bytes to read */
    apr_size_t                 stage_pos;
    apr_size_t                 stage_len;
    apr_size_t                 stage_size;
    char                      *h1;             /* raw 1xx text */
    apr_size_t                 h1_len;
};


struct h2x_apache_conn_s {
    conn_rec                  *c;
    server_rec                *s;         /* the vhost that claimed it */
    const char                *protocol;  /* "h2" or "h2c" */
    const char                *tag;       /* "child-connection" */
    h2x_session_t             *session;
    apr_pollset_t             *pollset;   /* in ppool, while on a thread */
    apr_pool_t                *ppool;
    apr_socket_t              *socket;
    apr_bucket_brigade        *bb_in;
    apr_bucket_brigade        *bb_out;
    char                      *wbuf;      /* TLS: output gathered here */
    int                        tls;
    apr_size_t                 max_response_header; /* engine's bound */

    apr_thread_mutex_t        *mutex;
    apr_thread_cond_t         *done_cond;
    h2x_apache_stream_t       *dirty_head;   /* under mutex */
    h2x_apache_stream_t       *dirty_tail;
    int                        active;       /* handed off, not done */
    int                        c1_waiting;   /* c1 waits for done_cond */

    h2x_apache_stream_t       *streams;      /* c1 only */
    h2x_apache_stream_t       *pend_head;    /* c1: over the share */
    h2x_apache_stream_t       *pend_tail;
    int                        running;      /* c1: scheduled, not done */
    h2x_apache_chunk_t        *engine_list;  /* c1 only */
    apr_uint32_t               next_c2_id;
    int                        stopping;     /* set by child_stopping */
    int                        goaway_sent;
    int                        sweep;        /* streams may be freed */
    int                        release;      /* sent streams to release */
    int                        logged;       /* stream errors logged */
    apr_time_t                 idle_since;
    apr_time_t                 stall_check;  /* next look for stalls */
    int                        parked;       /* idle, back in the MPM */
    int                        drained;      /* last read saw EAGAIN */
    int                        finished;     /* session torn down */
    h2x_apache_conn_t         *live_next;    /* global list */
    h2x_apache_conn_t         *live_prev;
};


/* h2x_apache_session.c */
int h2x_apache_session_run(h2x_apache_conn_t *hc);
void h2x_apache_chunk_free(h2x_apache_chunk_t *ch);
void h2x_apache_session_pre_close(h2x_apache_conn_t *hc);
void h2x_apache_session_child_stopping(int graceful);
void h2x_apache_session_child_init(apr_pool_t *pchild);
void h2x_apache_stream_mark(h2x_apache_stream_t *hs);
h2x_apache_block_t *h2x_apache_block_create(unsigned status,
    const apr_table_t *t);

/* h2x_apache_workers.c */
apr_status_t h2x_apache_workers_child_init(apr_pool_t *pchild, server_rec *s);
void h2x_apache_workers_push(h2x_apache_stream_t *hs);
int h2x_apache_workers_cancel(h2x_apache_stream_t *hs);
void h2x_apache_workers_stats(int *threads, int *busy, int *queued);
int h2x_apache_workers_may_add(int running);
void h2x_apache_workers_conn_busy(int delta);

/* h2x_apache_stream.c */
conn_rec *h2x_apache_c2_create(h2x_apache_stream_t *hs);
void h2x_apache_stream_process(h2x_apache_stream_t *hs, apr_thread_t *t);
apr_status_t h2x_apache_stream_child_init(apr_pool_t *pchild);

/* h2x_apache_filters.c */
void h2x_apache_filters_register(void);
void h2x_apache_filters_add_c2(conn_rec *c2, h2x_apache_stream_t *hs);

/* h2x_apache_status.c */
void h2x_apache_status_register_hooks(void);
apr_status_t h2x_apache_status_child_init(apr_pool_t *pchild);
void h2x_apache_status_add(const h2x_stats_t *st);
void h2x_apache_status_conn(int delta);


#endif /* H2X_APACHE_H */
