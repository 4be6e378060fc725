/*
 * ngx_http_h2x_module: h2x as an alternate HTTP/2 handler for nginx.
 *
 * Types shared by the files of the adapter:
 *
 *   ngx_http_h2x_module.c      module, directives, configuration
 *   ngx_http_h2x_handshake.c   listener wrapping, TLS handshake, ALPN,
 *                              connection preface detection
 *   ngx_http_h2x_connection.c  the main connection: session, reading,
 *                              writing, timers, shutdown, closing
 *   ngx_http_h2x_stream.c      streams: fake connections, requests, the
 *                              request body, lifecycle hooks
 *   ngx_http_h2x_filter.c      response header filter, body output
 *   ngx_http_h2x_status.c      the h2x_status handler, counters
 *   ngx_http_h2x_variables.c   $h2x, $h2x_stream_id
 *   ngx_http_h2x_compat.c      what differs between nginx versions
 */

#ifndef _NGX_HTTP_H2X_MODULE_H_INCLUDED_
#define _NGX_HTTP_H2X_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_h2x_compat.h"

#include "h2x.h"
#include "h2x_hpack.h"
#include "h2x_session.h"


/* a free bit of NGX_LOWLEVEL_BUFFERED: SSL is 0x01, the builtin v2 0x02 */
#define NGX_HTTP_H2X_BUFFERED      0x08

#define NGX_HTTP_H2X_SEGMENTS      64
#define NGX_HTTP_H2X_PREFACE_INTENT 18         /* "PRI * HTTP/2.0\r\n\r\n" */
#define NGX_HTTP_H2X_POOL_SIZE     4096        /* streams and refs */
#define NGX_HTTP_H2X_BODY_PREALLOC (80 * 1024) /* a window and a frame */
#define NGX_HTTP_H2X_SHRINK_STREAMS 16         /* see free_idle() */
#define NGX_HTTP_H2X_MAX_LOG       32          /* per connection */


typedef struct ngx_http_h2x_connection_s  ngx_http_h2x_connection_t;
typedef struct ngx_http_h2x_stream_s      ngx_http_h2x_stream_t;
typedef struct ngx_http_h2x_ref_s         ngx_http_h2x_ref_t;


typedef struct {
    ngx_flag_t                     enable;

    ngx_uint_t                     concurrent_streams;
    size_t                         preread_size;
    size_t                         connection_window;
    size_t                         max_field_size;
    size_t                         max_header_size;
    ngx_uint_t                     max_header_fields;
    ngx_uint_t                     max_continuations;
    size_t                         header_table_size;
    size_t                         max_unsent_output;
    size_t                         max_response_header;
    ngx_uint_t                     max_control_frames;
    ngx_uint_t                     max_settings_entries;
    ngx_uint_t                     max_new_streams;
    ngx_uint_t                     reset_burst;
    ngx_uint_t                     reset_rate;
    ngx_uint_t                     glitch_burst;
    ngx_uint_t                     glitch_rate;
    ngx_uint_t                     max_stream_errors;
    ngx_uint_t                     max_priority_updates;
    ngx_msec_t                     settings_timeout;
    ngx_msec_t                     goaway_timeout;
} ngx_http_h2x_srv_conf_t;


typedef struct {
    size_t                         chunk_size;
} ngx_http_h2x_loc_conf_t;


/* one wrapped HTTP listener and its shadow (see the handshake file) */
typedef struct {
    ngx_listening_t               *listening;
    ngx_listening_t               *shadow;
    void                          *addrs;
    void                          *shadow_addrs;
} ngx_http_h2x_listener_t;


typedef struct {
    size_t                         recv_buffer_size;
    ngx_flag_t                     enabled;     /* in some server */
    ngx_array_t                    listeners;   /* ngx_http_h2x_listener_t */
} ngx_http_h2x_main_conf_t;


/*
 * A chunk handed to the engine: a slice of a response buf.  The original
 * buf is advanced only when the engine releases the chunk, so that
 * output_chain and upstream buffers stay busy until the bytes are out.
 * If the request goes away first (an abort while a DATA frame is half
 * written), the chunk is detached: memory is copied, a file descriptor
 * is duplicated, and the connection owns both until the release.
 */
struct ngx_http_h2x_ref_s {
    ngx_http_h2x_ref_t            *next;        /* stream list / free list */
    ngx_http_h2x_stream_t         *stream;      /* NULL when detached */
    ngx_buf_t                     *buf;         /* the original */
    u_char                        *base;        /* memory given */
    size_t                         len;
    u_char                        *pos_end;     /* advance buf->pos to */
    off_t                          file_end;    /* advance file_pos to */
    u_char                        *copy;        /* detached memory */
    ngx_pool_cleanup_t            *cln;         /* closes a dup()ed fd */
    ngx_file_t                     file;        /* no thread_handler */
    unsigned                       in_file:1;
};


struct ngx_http_h2x_stream_s {
    ngx_connection_t               fc;
    ngx_event_t                    rev;
    ngx_event_t                    wev;
    ngx_log_t                      log;
    ngx_http_log_ctx_t             log_ctx;

    ngx_http_h2x_connection_t     *h2c;
    h2x_stream_t                  *st;
    ngx_http_request_t            *request;
    ngx_uint_t                     id;

    ngx_queue_t                    queue;       /* h2c->streams */
    ngx_http_h2x_stream_t         *next_free;

    ngx_http_h2x_ref_t            *refs;        /* chunks with the engine */
    ngx_uint_t                     nrefs;

    /* a buf partly handed to the engine by the last send_chain */
    ngx_buf_t                     *partial;
    u_char                        *partial_pos;
    off_t                          partial_file_pos;

    ngx_uint_t                     close_code;

    /* request body bytes from on_data, not yet read by nginx */
    u_char                        *body;
    size_t                         body_size;
    size_t                         body_pos;
    size_t                         body_last;

    /* the engine's chunked framing, for nginx's chunked body parser */
    h2x_chunked_t                  chunking;

    unsigned                       in_use:1;
    unsigned                       header_sent:1;
    unsigned                       header_refused:1; /* too large: 500 */
    unsigned                       out_closed:1;   /* END_STREAM queued */
    unsigned                       closed:1;       /* engine closed it */
    unsigned                       aborted:1;      /* reset or conn lost */
    unsigned                       body_wait:1;    /* recv said AGAIN */
    unsigned                       chunked:1;      /* body read as chunked */
    unsigned                       body_end:1;     /* END_STREAM seen */
    unsigned                       released:1;
};


struct ngx_http_h2x_connection_s {
    ngx_connection_t              *connection;
    ngx_http_connection_t         *http_connection;
    h2x_session_t                 *session;
    ngx_http_h2x_srv_conf_t       *conf;

    ngx_queue_t                    streams;
    ngx_uint_t                     nstreams;    /* not yet released */
    ngx_pool_t                    *pool;        /* streams, refs; idle: NULL */
    ngx_http_h2x_stream_t         *free_streams;
    ngx_http_h2x_ref_t            *free_refs;
    ngx_uint_t                     nrefs;       /* refs not on free_refs */
    ngx_http_h2x_stream_t         *release;     /* deferred releases */

    ngx_event_t                    timer;       /* engine deadlines */

    ngx_queue_t                    all;         /* worker list */

    ngx_msec_t                     idle_timeout;
    ngx_msec_t                     header_timeout;
    ngx_msec_t                     send_timeout;
    size_t                         high_water;  /* queued per stream */
    time_t                         lingering_time;
    ngx_uint_t                     logged;      /* client errors logged */

    unsigned                       tls:1;
    unsigned                       feeding:1;
    unsigned                       flushing:1;
    unsigned                       dead:1;       /* socket unusable */
    unsigned                       goaway:1;     /* we sent GOAWAY */
    unsigned                       closing:1;    /* close when possible */
    unsigned                       blocked:1;    /* socket write blocked */
    unsigned                       requested:1;  /* a stream was opened */
    unsigned                       read_paused:1;
    unsigned                       linger:1;     /* close after GOAWAY */
    unsigned                       closed:1;
};


extern ngx_module_t  ngx_http_h2x_module;
extern ngx_uint_t    ngx_http_h2x_usable;


/* handshake */
void ngx_http_h2x_init_connection(ngx_connection_t *c);
ngx_int_t ngx_http_h2x_wrap_listeners(ngx_cycle_t *cycle);
ngx_int_t ngx_http_h2x_install_alpn(ngx_conf_t *cf);

/* connection */
void ngx_http_h2x_init(ngx_connection_t *c);
void ngx_http_h2x_flush(ngx_http_h2x_connection_t *h2c);
void ngx_http_h2x_schedule(ngx_http_h2x_connection_t *h2c);
void *ngx_http_h2x_palloc(ngx_http_h2x_connection_t *h2c, size_t size);
ngx_int_t ngx_http_h2x_init_worker(ngx_cycle_t *cycle);
extern ngx_queue_t  ngx_http_h2x_connections;

/* streams */
int ngx_http_h2x_on_request(h2x_session_t *s, h2x_stream_t *st,
    const h2x_request_t *req, void *user);
void ngx_http_h2x_on_stream_close(h2x_session_t *s, h2x_stream_t *st,
    uint32_t code, void *user);
int ngx_http_h2x_on_data(h2x_session_t *s, h2x_stream_t *st,
    const uint8_t *data, size_t len, unsigned flags, void *user);
int ngx_http_h2x_on_trailers(h2x_session_t *s, h2x_stream_t *st,
    const h2x_header_t *h, size_t n, void *user);
void ngx_http_h2x_abort_stream(ngx_http_h2x_stream_t *stream);
void ngx_http_h2x_wake_body(ngx_http_h2x_stream_t *stream);
void ngx_http_h2x_release_deferred(ngx_http_h2x_connection_t *h2c);
ngx_http_h2x_stream_t *ngx_http_h2x_stream(ngx_http_request_t *r);

/* output */
ngx_int_t ngx_http_h2x_filter_init(ngx_conf_t *cf);
ngx_chain_t *ngx_http_h2x_send_chain(ngx_connection_t *fc, ngx_chain_t *in,
    off_t limit);
void ngx_http_h2x_on_chunk_release(h2x_session_t *s, h2x_stream_t *st,
    void *ref, void *user);
void ngx_http_h2x_on_writable(h2x_session_t *s, h2x_stream_t *st,
    void *user);
void ngx_http_h2x_detach_refs(ngx_http_h2x_stream_t *stream);

/* status and variables */
char *ngx_http_h2x_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
void ngx_http_h2x_stats_add(const h2x_stats_t *st);
ngx_int_t ngx_http_h2x_add_variables(ngx_conf_t *cf);

extern ngx_uint_t  ngx_http_h2x_total_connections;


#endif /* _NGX_HTTP_H2X_MODULE_H_INCLUDED_ */
