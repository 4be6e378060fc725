/*
 * h2x_session internals, shared by h2x_session.c (input, streams, API),
 * h2x_out.c (output queue and DATA scheduler) and h2x_request.c
 * (request validation).  Not part of the public API.
 */

#ifndef _H2X_SESSION_INT_H_INCLUDED_
#define _H2X_SESSION_INT_H_INCLUDED_


#include "h2x.h"
#include "h2x_frame.h"
#include "h2x_hpack.h"
#include "h2x_session.h"


#define H2X_URGENCY_LEVELS        8
#define H2X_DEFAULT_URGENCY       3     /* RFC 9218 4.1 */
#define H2X_CLOSED_MEMORY         64    /* recently closed stream ids */
#define H2X_RFC_INITIAL_WINDOW    65535 /* RFC 9113 6.9.2 */
#define H2X_GOAWAY_PING           "h2xgaway"
#define H2X_IDLE_TRIM             1000  /* ms idle, then free lists go */


/* Stream states, RFC 9113 5.1 (no reserved states on a server). */
enum {
    H2X_ST_IDLE = 0,
    H2X_ST_OPEN,
    H2X_ST_HALF_CLOSED_LOCAL,
    H2X_ST_HALF_CLOSED_REMOTE,
    H2X_ST_CLOSED
};


/* How a stream ended, remembered to answer late frames (RFC 9113 5.1). */
enum {
    H2X_GONE_NORMAL = 1,    /* both END_STREAMs */
    H2X_GONE_OUR_RST,       /* we reset (or ignored) it: ignore frames */
    H2X_GONE_PEER_RST       /* the peer reset it: STREAM_CLOSED */
};


/* A caller chunk queued on a stream. */
typedef struct h2x_cnode_s  h2x_cnode_t;

struct h2x_cnode_s {
    h2x_chunk_t                chunk;
    h2x_cnode_t               *next;
    h2x_stream_t              *stream;
    size_t                     sched;      /* bytes put into DATA frames */
    size_t                     inflight;   /* of them, not yet written */
    unsigned                   end_stream:1;
    unsigned                   popped:1;   /* left the stream queue */
};


/* One entry of the output list. */
enum {
    H2X_OUT_BYTES = 0,      /* engine bytes in obuf */
    H2X_OUT_CHUNK,          /* a slice of a caller chunk */
    H2X_OUT_END             /* marker: END_STREAM of a stream written */
};


typedef struct {
    uint8_t                    kind;
    uint32_t                   nctrl;      /* control frames in BYTES */
    size_t                     len;
    size_t                     off;        /* obuf offset or chunk offset */
    h2x_cnode_t               *node;       /* CHUNK */
    h2x_stream_t              *stream;     /* END */
} h2x_out_t;


/* Copied trailers waiting for the stream's body to go out. */
typedef struct {
    h2x_header_t              *h;
    size_t                     n;
    size_t                     size;       /* of the allocation */
} h2x_trailers_t;


struct h2x_stream_s {
    uint32_t                   id;
    uint8_t                    state;
    uint8_t                    urgency;
    uint8_t                    gone;        /* H2X_GONE_* once closed */

    unsigned                   announced:1;
    unsigned                   rst_in:1;    /* the peer's RST_STREAM came */
    unsigned                   slot:1;      /* holds a concurrency slot */
    unsigned                   released:1;
    unsigned                   close_cb:1;    /* on_stream_close fired */
    unsigned                   final_sent:1;  /* final HEADERS queued */
    unsigned                   end_queued:1;  /* caller ended the body */
    unsigned                   end_sched:1;   /* END_STREAM in output */
    unsigned                   end_written:1; /* END_STREAM written */
    unsigned                   recv_end:1;    /* peer END_STREAM */
    unsigned                   incremental:1;
    unsigned                   in_sched:1;
    unsigned                   completed:1;   /* response fully queued */
    unsigned                   eof_read:1;    /* h2x_stream_read EOF */

    uint32_t                   close_code;

    void                      *data;         /* adapter's */

    h2x_stream_t              *hnext;        /* hash chain */
    h2x_stream_t              *snext;        /* scheduler ring */
    h2x_stream_t              *sprev;

    /* output */
    h2x_cnode_t               *qhead;
    h2x_cnode_t               *qtail;
    size_t                     unsched;       /* queued, not in frames */
    size_t                     queued;        /* queued, not written */
    int64_t                    send_window;
    uint32_t                   chunk_size;    /* 0: the session's */
    h2x_trailers_t            *trailers;
    uint32_t                   refs;          /* output entries + nodes */

    /* input */
    int64_t                    recv_window;   /* peer may still send */
    size_t                     unconsumed;    /* delivered, not consumed */
    int64_t                    content_length;
    uint64_t                   data_received;

    /* body kept for h2x_stream_read() when on_data is NULL */
    uint8_t                   *rbuf;
    size_t                     rbuf_size;
    size_t                     rbuf_start;
    size_t                     rbuf_end;
    h2x_trailers_t            *rtrailers;     /* request trailers, kept */
    h2x_chunked_t              rchunk;        /* H2X_READ_CHUNKED state */
};


typedef struct {
    uint32_t                   tokens;
    uint32_t                   burst;
    uint32_t                   rate;        /* per second */
    uint64_t                   last;        /* ms */
} h2x_bucket_t;


typedef struct {
    uint32_t                   id;
    uint8_t                    urgency;
    uint8_t                    incremental;
} h2x_prio_pending_t;


/* Header block being received. */
enum {
    H2X_HB_NONE = 0,
    H2X_HB_REQUEST,        /* a new stream's request headers */
    H2X_HB_TRAILERS,       /* trailers of hb_stream */
    H2X_HB_DISCARD         /* decoded to keep HPACK in sync, dropped */
};


/* Field names checked lately (h2x_request.c), 8 to 32 octets: sets of
 * two, the newer first. */
#define H2X_NAME_MEMO_SETS        16

typedef struct {
    uint64_t                   w[4];       /* samples covering the name */
    uint8_t                    len;        /* 0: empty */
    uint8_t                    kind;
} h2x_name_memo_t;


struct h2x_session_s {
    h2x_config_t               cfg;
    h2x_callbacks_t            cb;
    void                      *user;
    const h2x_allocator_t     *a;
    h2x_allocator_t            hpack_a;     /* counting wrapper */
    size_t                     mem;

    h2x_frame_parser_t         parser;
    /* allocated with their tables; an idle session frees them */
    h2x_hpack_dec_t           *dec;
    h2x_hpack_enc_t           *enc;

    h2x_stats_t                stats;
    uint64_t                   now;

    unsigned                   failed:1;       /* connection error */
    unsigned                   got_settings:1;
    unsigned                   settings_acked:1;
    unsigned                   goaway_sent:1;  /* final GOAWAY queued */
    unsigned                   goaway_step1:1; /* graceful, awaiting PING */
    unsigned                   goaway_armed:1; /* its deadline is set */
    unsigned                   goaway_recv:1;
    unsigned                   in_feed:1;
    unsigned                   dec_ready:1;
    unsigned                   enc_ready:1;
    unsigned                   clock:1;        /* now seen once */
    unsigned                   trim_pending:1;
    unsigned                   enc_forgot:1;   /* peer holds our old table */
    unsigned                   dec_saved:1;    /* dec_max_size to restore */
    uint32_t                   dec_max_size;
    unsigned                   nomem:1;        /* a control frame lost */
    unsigned                   refuse_logged:1;
    uint64_t                   trim_deadline;

    uint64_t                   settings_deadline;
    uint64_t                   goaway_deadline;
    uint32_t                   goaway_code;
    uint32_t                   goaway_last_id;

    /* peer settings */
    uint32_t                   peer_max_frame;
    uint32_t                   peer_table_size;
    unsigned                   peer_table_set:1;
    uint32_t                   peer_iws;
    int64_t                    conn_send_window;

    /* our receive side */
    int64_t                    conn_recv_window;
    uint32_t                   conn_recv_unacked;
    uint32_t                   local_iws;      /* in effect for new streams */

    /* streams */
    h2x_stream_t             **hash;
    uint32_t                   hash_mask;
    h2x_stream_t              *free_streams;
    h2x_cnode_t               *free_nodes;
    size_t                     nstreams;       /* objects alive */
    size_t                     nactive;        /* announced, not released */
    size_t                     nslots;         /* concurrency slots held */
    uint32_t                   last_id;        /* highest client stream id */
    uint32_t                   last_accepted;  /* highest announced */
    uint32_t                   new_streams;    /* in this feed call */
    uint64_t                   requests;
    uint32_t                   stream_errors;

    uint32_t                   closed_ids[H2X_CLOSED_MEMORY];
    uint8_t                    closed_how[H2X_CLOSED_MEMORY];
    uint32_t                   closed_next;

    h2x_bucket_t               rst_bucket;
    h2x_bucket_t               glitch_bucket;

    /* frame being parsed */
    h2x_stream_t              *cur;
    uint32_t                   cur_data;       /* DATA bytes delivered */
    uint32_t                   cur_len;        /* DATA frame length */
    unsigned                   cur_skip:1;     /* ignore rest of DATA */

    /* pending SETTINGS entries (applied at the frame's end) */
    uint32_t                   set_mask;
    uint32_t                   set_val[10];

    /* PRIORITY_UPDATE being received */
    uint32_t                   pu_id;
    uint8_t                    pu_len;
    uint8_t                    pu_buf[64];
    h2x_prio_pending_t        *prio_pending;
    uint32_t                   nprio_pending;

    /* header block */
    uint64_t                   hb_deadline;    /* header_timeout */
    uint8_t                    hb_kind;
    uint8_t                    hb_flags;       /* of the HEADERS frame */
    uint32_t                   hb_stream_id;
    uint32_t                   hb_error;       /* stream error to send */
    uint32_t                   hb_conts;
    h2x_stream_t              *hb_stream;
    int                        hb_rc;          /* last decoder result */
    h2x_hpack_out_t            hb_out;
    h2x_header_t              *hfields;        /* decoder output */
    uint8_t                   *hbuf;           /* strings + cookie area */
    size_t                     hbuf_size;

    /* output */
    uint8_t                   *obuf;
    size_t                     obuf_size;
    size_t                     olen;           /* bytes in obuf */
    h2x_out_t                 *out;
    size_t                     out_size;
    size_t                     out_hint;       /* out_size before a trim */
    size_t                     obuf_hint;      /* obuf_size before a trim */
    size_t                     out_head;       /* first unsent entry */
    size_t                     out_count;
    size_t                     out_head_off;   /* sent bytes of the head */
    size_t                     unsent;         /* bytes in the out list */
    uint32_t                   ctrl_pending;   /* control frames unsent */
    uint32_t                   last_bytes_open; /* can extend last entry */

    h2x_stream_t              *sched[H2X_URGENCY_LEVELS];
    uint32_t                   sched_mask;

    h2x_name_memo_t          (*name_memo)[2];   /* NULL while idle */
};


/* h2x_session.c */
void *h2x_s_alloc(h2x_session_t *s, size_t size);
void h2x_s_free(h2x_session_t *s, void *p);
void h2x_s_log(h2x_session_t *s, uint32_t sid, uint32_t code,
    const char *reason);
int h2x_conn_error(h2x_session_t *s, uint32_t code, const char *reason);
void h2x_stream_closed(h2x_session_t *s, h2x_stream_t *st, uint32_t code);
void h2x_stream_unref(h2x_session_t *s, h2x_stream_t *st);
void h2x_stream_end_written(h2x_session_t *s, h2x_stream_t *st);
void h2x_trim(h2x_session_t *s);
void h2x_release_queue(h2x_session_t *s, h2x_stream_t *st);
void h2x_node_free(h2x_session_t *s, h2x_cnode_t *n);


/* h2x_out.c */
int h2x_out_entries(h2x_session_t *s, size_t need);
uint8_t *h2x_out_reserve(h2x_session_t *s, size_t n);
void h2x_out_commit(h2x_session_t *s, size_t n, uint32_t nctrl);
int h2x_out_frame(h2x_session_t *s, const uint8_t *frame, size_t n,
    int ctrl);
int h2x_out_rst(h2x_session_t *s, uint32_t sid, uint32_t code);
int h2x_out_window_update(h2x_session_t *s, uint32_t sid, uint32_t inc);
int h2x_out_goaway(h2x_session_t *s, uint32_t last_id, uint32_t code,
    const char *debug);
int h2x_out_headers(h2x_session_t *s, uint32_t sid, const char *status,
    const h2x_header_t *h, size_t n, int end_stream);
void h2x_sched_update(h2x_session_t *s, h2x_stream_t *st);
void h2x_sched_remove(h2x_session_t *s, h2x_stream_t *st);
void h2x_out_schedule(h2x_session_t *s);
void h2x_out_free(h2x_session_t *s);

/* h2x_request.c */
int h2x_request_parse(h2x_session_t *s, h2x_header_t *f, size_t n,
    h2x_request_t *req, const h2x_header_t **priority, const char **reason);
int h2x_trailers_check(h2x_session_t *s, h2x_header_t *f, size_t n,
    const char **reason);

/* h2x_field.c */
int h2x_response_fields(h2x_session_t *s, h2x_stream_t *st,
    const h2x_header_t *h, size_t n, h2x_header_t **out, size_t *nout);
void h2x_response_fields_free(h2x_session_t *s, h2x_header_t *c);
int h2x_priority_parse(const uint8_t *p, size_t len, uint8_t *urgency,
    uint8_t *incremental);


#endif /* _H2X_SESSION_INT_H_INCLUDED_ */
