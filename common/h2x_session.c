/*
 * h2x_session: one server-side HTTP/2 connection (RFC 9113): input
 * frames, stream states, flow control, SETTINGS/PING/GOAWAY, limits and
 * abuse budgets, and the stream API.  Output lives in h2x_out.c, request
 * validation in h2x_request.c.
 */

#include <string.h>

#include "h2x_session_int.h"


#define H2X_ALLOC_HDR             16


static int h2x_on_frame_header(void *data, const h2x_frame_header_t *fh);
static int h2x_on_data(void *data, const h2x_frame_header_t *fh,
    const uint8_t *p, size_t len);
static int h2x_on_header_block(void *data, const h2x_frame_header_t *fh,
    const uint8_t *p, size_t len);
static int h2x_on_rst_stream(void *data, const h2x_frame_header_t *fh,
    uint32_t code);
static int h2x_on_setting(void *data, const h2x_frame_header_t *fh,
    uint16_t id, uint32_t value);
static int h2x_on_ping(void *data, const h2x_frame_header_t *fh,
    const uint8_t *opaque);
static int h2x_on_goaway(void *data, const h2x_frame_header_t *fh,
    uint32_t last_stream_id, uint32_t code);
static int h2x_on_window_update(void *data, const h2x_frame_header_t *fh,
    uint32_t increment);
static int h2x_on_priority_update(void *data, const h2x_frame_header_t *fh,
    uint32_t prioritized_stream_id);
static int h2x_on_priority_field(void *data, const h2x_frame_header_t *fh,
    const uint8_t *p, size_t len);
static int h2x_on_frame_end(void *data, const h2x_frame_header_t *fh);
static int h2x_on_stream_error(void *data, const h2x_frame_error_t *err);

static void h2x_stream_free(h2x_session_t *s, h2x_stream_t *st);
static int h2x_stream_error(h2x_session_t *s, uint32_t sid, uint32_t code,
    const char *reason);
static void h2x_goaway_final(h2x_session_t *s);
static void h2x_hpack_tables_free(h2x_session_t *s);
static void h2x_trim_tables(h2x_session_t *s);
static void h2x_credit(h2x_session_t *s, h2x_stream_t *st, size_t n);
static void h2x_hb_discard(h2x_session_t *s, uint32_t error);
static h2x_trailers_t *h2x_headers_copy(h2x_session_t *s,
    const h2x_header_t *h, size_t n);


static const h2x_frame_callbacks_t  h2x_session_frame_cb = {
    h2x_on_frame_header,
    h2x_on_data,
    h2x_on_header_block,
    NULL,                       /* on_priority: RFC 7540 tree not kept */
    NULL,                       /* on_push_promise: refused at header */
    h2x_on_rst_stream,
    h2x_on_setting,
    h2x_on_ping,
    h2x_on_goaway,
    NULL,                       /* on_goaway_debug */
    h2x_on_window_update,
    h2x_on_priority_update,
    h2x_on_priority_field,
    h2x_on_frame_end,
    h2x_on_stream_error
};


void
h2x_config_init(h2x_config_t *cfg)
{
    memset(cfg, 0, sizeof(h2x_config_t));

    cfg->header_table_size = 4096;
    cfg->max_concurrent_streams = 128;
    cfg->initial_window_size = 65536;
    cfg->max_frame_size = 16384;
    cfg->max_header_list_size = 32768;
    cfg->enable_connect_protocol = 0;
    cfg->connection_window_size = 1024 * 1024;
    cfg->max_field_size = 8192;
    cfg->max_header_fields = 100;
    cfg->max_continuations = 8;
    cfg->max_requests = 1000;
    cfg->chunk_size = 16384;
    cfg->max_unsent_output = 512 * 1024;
    cfg->max_control_queue = 1000;
    cfg->max_response_header_size = 2 * 1024 * 1024;
    cfg->bad_response_field = H2X_BAD_FIELD_DROP;
    cfg->max_settings_entries = 32;
    cfg->max_new_streams_per_feed = 0;     /* no cap */
    cfg->rst_burst = 1000;
    cfg->rst_rate = 33;
    cfg->glitch_burst = 1000;
    cfg->glitch_rate = 100;
    cfg->max_stream_errors = 16;
    cfg->max_priority_updates = 100;
    cfg->settings_ack_timeout = 10000;
    cfg->goaway_ping_timeout = 1000;
    cfg->header_timeout = 60000;           /* nginx's client_header_timeout */
    cfg->never_index_sensitive = 1;
}


/* --- memory --------------------------------------------------------- */

/*
 * Every allocation carries its size in a small header, so that the
 * session knows what it holds (h2x_session_memory()) without asking the
 * host.
 */

void *
h2x_s_alloc(h2x_session_t *s, size_t size)
{
    uint8_t  *p;

    p = h2x_alloc(s->a, size + H2X_ALLOC_HDR);
    if (p == NULL) {
        return NULL;
    }

    *(size_t *) p = size;
    s->mem += size + H2X_ALLOC_HDR;

    return p + H2X_ALLOC_HDR;
}


void
h2x_s_free(h2x_session_t *s, void *ptr)
{
    uint8_t  *p;

    if (ptr == NULL) {
        return;
    }

    p = (uint8_t *) ptr - H2X_ALLOC_HDR;
    s->mem -= *(size_t *) p + H2X_ALLOC_HDR;
    h2x_free(s->a, p);
}


static void *
h2x_hpack_alloc(size_t size, void *ctx)
{
    return h2x_s_alloc(ctx, size);
}


static void
h2x_hpack_free(void *ptr, void *ctx)
{
    h2x_s_free(ctx, ptr);
}


/* --- small helpers -------------------------------------------------- */

void
h2x_s_log(h2x_session_t *s, uint32_t sid, uint32_t code, const char *reason)
{
    if (s->cb.on_log) {
        s->cb.on_log(s, sid, code, reason, s->user);
    }
}


static void
h2x_bucket_init(h2x_bucket_t *b, uint32_t burst, uint32_t rate)
{
    b->tokens = burst;
    b->burst = burst;
    b->rate = rate;
    b->last = 0;
}


static void
h2x_bucket_refill(h2x_bucket_t *b, uint64_t now)
{
    uint64_t  add;

    if (now > b->last && b->rate) {
        add = (now - b->last) * b->rate / 1000;
        if (add) {
            if (add >= (uint64_t) (b->burst - b->tokens)) {
                b->tokens = b->burst;
                b->last = now;
            } else {
                b->tokens += (uint32_t) add;
                b->last += add * 1000 / b->rate;
            }
        }
    }
}


/* Takes a token; 0 when the bucket is empty. */
static int
h2x_bucket_take(h2x_bucket_t *b, uint64_t now)
{
    h2x_bucket_refill(b, now);

    if (b->tokens == 0) {
        return 0;
    }

    b->tokens--;

    return 1;
}


/*
 * Rapid reset (CVE-2023-44487): streams refused, and streams the peer
 * reset before they got a response, draw on one token bucket.  A new
 * stream is only announced while a token is left, so that the requests
 * reaching the adapter are bounded by rst_burst (plus rst_rate per
 * second) whatever the sizes of the reads: the same bytes, the same
 * outcome.
 */
static int
h2x_rapid_reset(h2x_session_t *s)
{
    s->stats.rapid_reset++;

    return h2x_conn_error(s, H2X_ENHANCE_YOUR_CALM,
                          "client sent too many streams that were reset "
                          "or refused");
}


/* A new stream refused (RFC 9113 5.1.2, 8.7): charged, then REFUSED. */
static int
h2x_refuse(h2x_session_t *s, uint32_t sid, const char *reason)
{
    s->stats.streams_refused++;

    if (!h2x_bucket_take(&s->rst_bucket, s->now)) {
        return h2x_rapid_reset(s);
    }

    /* once: a flood of them ends in the one line above */
    if (!s->refuse_logged) {
        s->refuse_logged = 1;
        h2x_s_log(s, sid, H2X_REFUSED_STREAM, reason);
    }

    h2x_hb_discard(s, H2X_REFUSED_STREAM);

    return 0;
}


/* A misbehaviour that is legal once in a while: charged to a bucket. */
static int
h2x_glitch(h2x_session_t *s, uint64_t *counter, const char *reason)
{
    if (h2x_bucket_take(&s->glitch_bucket, s->now)) {
        return H2X_OK;
    }

    (*counter)++;

    return h2x_conn_error(s, H2X_ENHANCE_YOUR_CALM, reason);
}


static void
h2x_remember(h2x_session_t *s, uint32_t sid, uint8_t how)
{
    s->closed_ids[s->closed_next] = sid;
    s->closed_how[s->closed_next] = how;
    s->closed_next = (s->closed_next + 1) % H2X_CLOSED_MEMORY;
}


/* The peer reset a stream we remember: frames after it are its error. */
static void
h2x_recall_peer_rst(h2x_session_t *s, uint32_t sid)
{
    uint32_t  i, k;

    for (i = 0; i < H2X_CLOSED_MEMORY; i++) {
        k = (s->closed_next + H2X_CLOSED_MEMORY - 1 - i) % H2X_CLOSED_MEMORY;
        if (s->closed_ids[k] == sid) {
            s->closed_how[k] = H2X_GONE_PEER_RST;
            return;
        }
    }
}


static uint8_t
h2x_recall(h2x_session_t *s, uint32_t sid)
{
    uint32_t  i, k;

    for (i = 0; i < H2X_CLOSED_MEMORY; i++) {
        k = (s->closed_next + H2X_CLOSED_MEMORY - 1 - i) % H2X_CLOSED_MEMORY;
        if (s->closed_ids[k] == sid) {
            return s->closed_how[k];
        }
    }

    return 0;
}


/* --- stream table --------------------------------------------------- */

static h2x_stream_t *
h2x_stream_find(h2x_session_t *s, uint32_t sid)
{
    h2x_stream_t  *st;

    if (s->hash == NULL) {
        return NULL;
    }

    for (st = s->hash[(sid >> 1) & s->hash_mask]; st; st = st->hnext) {
        if (st->id == sid) {
            return st;
        }
    }

    return NULL;
}


static h2x_stream_t *
h2x_stream_create(h2x_session_t *s, uint32_t sid)
{
    uint32_t        size;
    h2x_stream_t   *st, **b;

    if (s->hash == NULL) {
        size = 16;
        while (size < s->cfg.max_concurrent_streams && size < 4096) {
            size *= 2;
        }

        s->hash = h2x_s_alloc(s, size * sizeof(h2x_stream_t *));
        if (s->hash == NULL) {
            return NULL;
        }

        memset(s->hash, 0, size * sizeof(h2x_stream_t *));
        s->hash_mask = size - 1;
    }

    st = s->free_streams;

    if (st) {
        s->free_streams = st->hnext;

    } else {
        st = h2x_s_alloc(s, sizeof(h2x_stream_t));
        if (st == NULL) {
            return NULL;
        }
    }

    memset(st, 0, sizeof(h2x_stream_t));

    st->id = sid;
    st->urgency = H2X_DEFAULT_URGENCY;
    st->incremental = 1;
    st->send_window = s->peer_iws;
    st->recv_window = s->local_iws;
    st->content_length = -1;

    b = &s->hash[(sid >> 1) & s->hash_mask];
    st->hnext = *b;
    *b = st;

    s->nstreams++;

    return st;
}


static void
h2x_stream_free(h2x_session_t *s, h2x_stream_t *st)
{
    h2x_stream_t  **b;

    for (b = &s->hash[(st->id >> 1) & s->hash_mask]; *b; b = &(*b)->hnext) {
        if (*b == st) {
            *b = st->hnext;
            break;
        }
    }

    h2x_sched_remove(s, st);
    h2x_remember(s, st->id, st->rst_in ? H2X_GONE_PEER_RST
                            : st->gone ? st->gone : H2X_GONE_NORMAL);

    h2x_s_free(s, st->rbuf);
    h2x_s_free(s, st->trailers);
    h2x_s_free(s, st->rtrailers);

    if (s->cur == st) {
        s->cur = NULL;
    }

    if (s->hb_stream == st) {
        s->hb_stream = NULL;
    }

    st->hnext = s->free_streams;
    s->free_streams = st;
    s->nstreams--;
}


void
h2x_stream_unref(h2x_session_t *s, h2x_stream_t *st)
{
    st->refs--;

    if (st->released && st->refs == 0 && st->state == H2X_ST_CLOSED) {
        h2x_stream_free(s, st);
    }
}


void
h2x_node_free(h2x_session_t *s, h2x_cnode_t *n)
{
    n->next = s->free_nodes;
    s->free_nodes = n;
}


/* Releases the chunks of st that are not in the output. */
void
h2x_release_queue(h2x_session_t *s, h2x_stream_t *st)
{
    h2x_cnode_t  *n, *next;

    n = st->qhead;
    st->qhead = NULL;
    st->qtail = NULL;

    for ( /* void */ ; n; n = next) {
        next = n->next;
        n->popped = 1;
        st->queued -= n->chunk.len - n->sched;

        if (n->inflight) {
            /* the slices in the output go out, then it is released */
            n->sched = n->chunk.len;
            continue;
        }

        st->refs++;   /* keep st while the callback runs */

        if (s->cb.on_chunk_release) {
            s->cb.on_chunk_release(s, st, n->chunk.ref, s->user);
        }

        h2x_node_free(s, n);
        st->refs--;
        h2x_stream_unref(s, st);
    }

    st->unsched = 0;
}


/* The stream reached the closed state (RFC 9113 5.1). */
void
h2x_stream_closed(h2x_session_t *s, h2x_stream_t *st, uint32_t code)
{
    size_t  held;

    if (st->state == H2X_ST_CLOSED) {
        return;
    }

    st->state = H2X_ST_CLOSED;
    st->close_code = code;

    if (st->gone == 0) {
        st->gone = H2X_GONE_NORMAL;
    }

    /*
     * A complete exchange gives its slot back at once, as the peer
     * counts it (RFC 9113 5.1.2); a reset one keeps it until the adapter
     * releases the stream, so resets cannot make the adapter run more
     * requests than the limit (MadeYouReset).
     */
    if (st->slot && st->gone == H2X_GONE_NORMAL && code == H2X_NO_ERROR) {
        st->slot = 0;
        s->nslots--;
    }

    h2x_sched_remove(s, st);

    st->refs++;

    if (st->trailers) {
        h2x_s_free(s, st->trailers);
        st->trailers = NULL;
    }

    h2x_release_queue(s, st);

    /* body the adapter will not consume any more: credit the connection */
    if (st->unconsumed || st->rbuf_end > st->rbuf_start) {
        held = st->unconsumed + st->rbuf_end - st->rbuf_start;
        st->unconsumed = 0;
        st->rbuf_start = st->rbuf_end = 0;
        h2x_credit(s, NULL, held);
    }

    if (st->announced && !st->released && !st->close_cb) {
        st->close_cb = 1;
        if (s->cb.on_stream_close) {
            s->cb.on_stream_close(s, st, code, s->user);
        }
    }

    h2x_stream_unref(s, st);
}


/* We reset st: RST_STREAM, then closed. */
static void
h2x_stream_do_reset(h2x_session_t *s, h2x_stream_t *st, uint32_t code)
{
    if (st->state == H2X_ST_CLOSED) {
        return;
    }

    (void) h2x_out_rst(s, st->id, code);
    st->gone = H2X_GONE_OUR_RST;
    h2x_stream_closed(s, st, code);
}


void
h2x_stream_end_written(h2x_session_t *s, h2x_stream_t *st)
{
    st->end_written = 1;

    if (st->state == H2X_ST_OPEN) {
        st->state = H2X_ST_HALF_CLOSED_LOCAL;

        if (st->released) {
            /* RFC 9113 8.1: the response is complete, stop the body */
            h2x_stream_do_reset(s, st, H2X_NO_ERROR);
        }

    } else if (st->state == H2X_ST_HALF_CLOSED_REMOTE) {
        h2x_stream_closed(s, st, H2X_NO_ERROR);
    }
}


/* Close every stream (connection error or immediate GOAWAY). */
static void
h2x_close_all(h2x_session_t *s, uint32_t code)
{
    uint32_t       i;
    h2x_stream_t  *st;

    if (s->hash == NULL) {
        return;
    }

again:

    for (i = 0; i <= s->hash_mask; i++) {
        for (st = s->hash[i]; st; st = st->hnext) {
            if (st->state != H2X_ST_CLOSED) {
                /* callbacks may free streams: rescan */
                h2x_stream_closed(s, st, code);
                goto again;
            }
        }
    }
}


int
h2x_conn_error(h2x_session_t *s, uint32_t code, const char *reason)
{
    if (s->failed) {
        return H2X_ERROR;
    }

    s->failed = 1;
    s->goaway_sent = 1;
    s->goaway_step1 = 0;
    s->goaway_last_id = s->last_accepted;

    h2x_s_log(s, 0, code, reason);

    /* RFC 9113 5.4.1 */
    (void) h2x_out_goaway(s, s->last_accepted, code, reason);

    h2x_close_all(s, code);

    return H2X_ERROR;
}


/*
 * A control frame (RST_STREAM, an ACK, GOAWAY) could not be queued: the
 * peer's view of the streams is wrong now, so the connection goes (or,
 * if even GOAWAY failed, just closes: want_close).
 */
static void
h2x_check_nomem(h2x_session_t *s)
{
    if (s->nomem && !s->failed) {
        s->nomem = 0;
        (void) h2x_conn_error(s, H2X_INTERNAL_ERROR,
                              "out of memory for a control frame");
    }

    s->nomem = 0;
}


/* A stream error caused by the peer (RFC 9113 5.4.2), MadeYouReset. */
static int
h2x_stream_error(h2x_session_t *s, uint32_t sid, uint32_t code,
    const char *reason)
{
    h2x_stream_t  *st;

    h2x_s_log(s, sid, code, reason);

    if (++s->stream_errors > s->cfg.max_stream_errors) {
        s->stats.stream_errors++;
        return h2x_conn_error(s, H2X_ENHANCE_YOUR_CALM,
                              "client caused too many stream errors");
    }

    st = h2x_stream_find(s, sid);

    if (st && st->state != H2X_ST_CLOSED) {
        h2x_stream_do_reset(s, st, code);

    } else if (st) {
        /*
         * Closed (by the peer's RST_STREAM, say) but not yet released
         * by the adapter: the RST_STREAM still goes out (RFC 9113 5.1),
         * as it does once the stream is freed.
         */
        (void) h2x_out_rst(s, sid, code);

    } else {
        (void) h2x_out_rst(s, sid, code);
        h2x_remember(s, sid, H2X_GONE_OUR_RST);
    }

    return H2X_OK;
}


/*
 * The adapter (or the engine) took n body bytes: credit, batched.  A
 * stream gets a WINDOW_UPDATE once the peer's allowance is short of the
 * window (less what the adapter still holds) by half the window; this
 * also reopens windows made negative by a smaller SETTINGS value.
 */
static void
h2x_credit(h2x_session_t *s, h2x_stream_t *st, size_t n)
{
    int64_t   deficit, pending;
    uint32_t  inc;

    s->conn_recv_unacked += (uint32_t) n;

    if (s->conn_recv_unacked >= s->cfg.connection_window_size / 2
        && !s->failed)
    {
        inc = s->conn_recv_unacked;
        if (h2x_out_window_update(s, 0, inc) == H2X_OK) {
            s->conn_recv_window += inc;
            s->conn_recv_unacked = 0;
        }
    }

    if (st == NULL || st->recv_end || st->state == H2X_ST_CLOSED
        || s->failed)
    {
        return;
    }

    /*
     * The window was charged the whole DATA frame at its header: the part
     * of it still on its way is neither consumed nor buffered, and must
     * not be granted again before it has been.
     */
    pending = 0;
    if (s->cur == st && s->cur_len > s->cur_data) {
        pending = s->cur_len - s->cur_data;
    }

    deficit = (int64_t) s->local_iws - (int64_t) st->unconsumed
              - (int64_t) (st->rbuf_end - st->rbuf_start) - st->recv_window
              - pending;

    if (deficit > 0 && deficit >= s->local_iws / 2) {
        if (h2x_out_window_update(s, st->id, (uint32_t) deficit) == H2X_OK) {
            st->recv_window += deficit;
        }
    }
}


/* --- session -------------------------------------------------------- */

h2x_session_t *
h2x_session_new(const h2x_config_t *cfg, const h2x_callbacks_t *cb,
    void *user, const h2x_allocator_t *a)
{
    size_t              n;
    uint8_t            *p;
    h2x_setting_t       set[8];
    h2x_session_t      *s;

    if (a == NULL) {
        a = h2x_allocator_default();
    }

    p = h2x_alloc(a, sizeof(h2x_session_t) + H2X_ALLOC_HDR);
    if (p == NULL) {
        return NULL;
    }

    s = (h2x_session_t *) (p + H2X_ALLOC_HDR);
    memset(s, 0, sizeof(h2x_session_t));
    *(size_t *) p = sizeof(h2x_session_t);

    s->a = a;
    s->mem = sizeof(h2x_session_t) + H2X_ALLOC_HDR;
    s->user = user;
    s->cb = *cb;

    if (cfg) {
        s->cfg = *cfg;
    } else {
        h2x_config_init(&s->cfg);
    }

    if (s->cfg.max_frame_size < H2X_FRAME_DEFAULT_MAX_SIZE) {
        s->cfg.max_frame_size = H2X_FRAME_DEFAULT_MAX_SIZE;
    }

    if (s->cfg.max_frame_size > H2X_FRAME_MAX_SIZE_LIMIT) {
        s->cfg.max_frame_size = H2X_FRAME_MAX_SIZE_LIMIT;
    }

    if (s->cfg.initial_window_size > H2X_MAX_WINDOW) {
        s->cfg.initial_window_size = H2X_MAX_WINDOW;
    }

    if (s->cfg.connection_window_size > H2X_MAX_WINDOW) {
        s->cfg.connection_window_size = H2X_MAX_WINDOW;
    }

    if (s->cfg.connection_window_size < H2X_RFC_INITIAL_WINDOW) {
        s->cfg.connection_window_size = H2X_RFC_INITIAL_WINDOW;
    }

    if (s->cfg.chunk_size == 0) {
        s->cfg.chunk_size = 16384;
    }

    s->hpack_a.alloc = h2x_hpack_alloc;
    s->hpack_a.free = h2x_hpack_free;
    s->hpack_a.ctx = s;

    h2x_frame_parser_init(&s->parser, &h2x_session_frame_cb, s,
                          H2X_FRAME_EXPECT_PREFACE);
    h2x_frame_parser_set_max_settings(&s->parser,
                                      s->cfg.max_settings_entries);

    /* the HPACK tables come with the first header block (idle memory) */

    h2x_bucket_init(&s->rst_bucket, s->cfg.rst_burst, s->cfg.rst_rate);
    h2x_bucket_init(&s->glitch_bucket, s->cfg.glitch_burst,
                    s->cfg.glitch_rate);

    s->peer_max_frame = H2X_FRAME_DEFAULT_MAX_SIZE;
    s->peer_iws = H2X_RFC_INITIAL_WINDOW;
    s->conn_send_window = H2X_RFC_INITIAL_WINDOW;
    s->conn_recv_window = H2X_RFC_INITIAL_WINDOW;

    /* RFC 9113 6.9.2: before the ACK the peer may count on 65535 */
    s->local_iws = s->cfg.initial_window_size > H2X_RFC_INITIAL_WINDOW
                   ? s->cfg.initial_window_size : H2X_RFC_INITIAL_WINDOW;

    /* RFC 9113 3.4: the server preface, our SETTINGS */
    n = 0;
    set[n].id = H2X_SETTINGS_MAX_CONCURRENT_STREAMS;
    set[n++].value = s->cfg.max_concurrent_streams;
    set[n].id = H2X_SETTINGS_ENABLE_PUSH;
    set[n++].value = 0;

    if (s->cfg.initial_window_size != H2X_RFC_INITIAL_WINDOW) {
        set[n].id = H2X_SETTINGS_INITIAL_WINDOW_SIZE;
        set[n++].value = s->cfg.initial_window_size;
    }

    if (s->cfg.max_frame_size != H2X_FRAME_DEFAULT_MAX_SIZE) {
        set[n].id = H2X_SETTINGS_MAX_FRAME_SIZE;
        set[n++].value = s->cfg.max_frame_size;
    }

    if (s->cfg.header_table_size != 4096) {
        set[n].id = H2X_SETTINGS_HEADER_TABLE_SIZE;
        set[n++].value = s->cfg.header_table_size;
    }

    set[n].id = H2X_SETTINGS_MAX_HEADER_LIST_SIZE;
    set[n++].value = s->cfg.max_header_list_size;

    if (s->cfg.enable_connect_protocol) {
        set[n].id = H2X_SETTINGS_ENABLE_CONNECT_PROTOCOL;
        set[n++].value = 1;
    }

    set[n].id = H2X_SETTINGS_NO_RFC7540_PRIORITIES;
    set[n++].value = 1;

    p = h2x_out_reserve(s, H2X_FRAME_SETTINGS_SIZE(n)
                           + H2X_FRAME_WINDOW_UPDATE_SIZE);
    if (p == NULL) {
        goto failed;
    }

    h2x_frame_write_settings(p, set, n);
    h2x_out_commit(s, H2X_FRAME_SETTINGS_SIZE(n), 0);
    s->stats.frames_out[H2X_FRAME_SETTINGS]++;

    if (s->cfg.connection_window_size > H2X_RFC_INITIAL_WINDOW) {
        (void) h2x_out_window_update(s, 0, s->cfg.connection_window_size
                                           - H2X_RFC_INITIAL_WINDOW);
        s->conn_recv_window = s->cfg.connection_window_size;
        s->ctrl_pending--;
        s->out[s->out_count - 1].nctrl--;
    }

    return s;

failed:

    h2x_session_free(s);

    return NULL;
}


void
h2x_session_free(h2x_session_t *s)
{
    uint32_t       i;
    h2x_cnode_t   *n;
    h2x_stream_t  *st;

    if (s == NULL) {
        return;
    }

    /*
     * Nodes still referenced by streams or by the output: their chunks
     * go back to the adapter, which owns their memory.
     */
    for (i = s->out_head; i < s->out_count; i++) {
        if (s->out[i].kind == H2X_OUT_CHUNK) {
            n = s->out[i].node;
            if (n->inflight) {
                n->inflight = 0;
                if (n->popped) {
                    if (s->cb.on_chunk_release) {
                        s->cb.on_chunk_release(s, n->stream, n->chunk.ref,
                                               s->user);
                    }
                    h2x_node_free(s, n);
                }
            }
        }
    }

    if (s->hash) {
        for (i = 0; i <= s->hash_mask; i++) {
            while ((st = s->hash[i]) != NULL) {
                s->hash[i] = st->hnext;
                while ((n = st->qhead) != NULL) {
                    st->qhead = n->next;
                    if (s->cb.on_chunk_release) {
                        s->cb.on_chunk_release(s, st, n->chunk.ref, s->user);
                    }
                    h2x_node_free(s, n);
                }
                h2x_s_free(s, st->rbuf);
                h2x_s_free(s, st->trailers);
                h2x_s_free(s, st->rtrailers);
                h2x_s_free(s, st);
            }
        }
        h2x_s_free(s, s->hash);
    }

    while ((st = s->free_streams) != NULL) {
        s->free_streams = st->hnext;
        h2x_s_free(s, st);
    }

    while ((n = s->free_nodes) != NULL) {
        s->free_nodes = n->next;
        h2x_s_free(s, n);
    }

    h2x_out_free(s);

    h2x_s_free(s, s->hfields);
    h2x_s_free(s, s->hbuf);
    h2x_s_free(s, s->prio_pending);

    h2x_hpack_tables_free(s);
    h2x_s_free(s, s->name_memo);

    h2x_free(s->a, (uint8_t *) s - H2X_ALLOC_HDR);
}


/* --- input: frames -------------------------------------------------- */

/* The decoder, allocated with the first header block. */
static int
h2x_dec_prepare(h2x_session_t *s)
{
    h2x_hpack_limits_t  lim;

    if (s->dec_ready) {
        return H2X_OK;
    }

    h2x_hpack_limits_init(&lim);

    /* until our SETTINGS are acknowledged, the peer may use 4096 */
    lim.max_table_size = s->cfg.header_table_size;
    if (!s->settings_acked && lim.max_table_size < 4096) {
        lim.max_table_size = 4096;
    }

    lim.max_list_size = s->cfg.max_header_list_size;
    lim.max_field_size = s->cfg.max_field_size;
    lim.max_fields = s->cfg.max_header_fields;
    lim.hard_list_size = 2 * (size_t) s->cfg.max_header_list_size;
    lim.hard_fields = 10 * (size_t) s->cfg.max_header_fields;
    if (lim.hard_fields < 1000) {
        lim.hard_fields = 1000;
    }

    s->dec = h2x_s_alloc(s, sizeof(h2x_hpack_dec_t));
    if (s->dec == NULL) {
        return H2X_NOMEM;
    }

    if (h2x_hpack_dec_init(s->dec, &s->hpack_a, &lim) != H2X_OK) {
        h2x_s_free(s, s->dec);
        s->dec = NULL;
        return H2X_NOMEM;
    }

    if (s->dec_saved && s->dec_max_size < s->dec->max_size) {
        /* freed while idle: the peer's last size update still holds */
        s->dec->max_size = s->dec_max_size;
    }

    s->dec_ready = 1;

    return H2X_OK;
}


/*
 * Between requests: the big buffers go at once; the free lists of
 * streams and chunk nodes (at most the concurrency) a second later, from
 * h2x_session_tick(), so that a busy connection does not allocate them
 * for every burst of requests.
 */
void
h2x_trim(h2x_session_t *s)
{
    if (s->nstreams || s->hb_kind != H2X_HB_NONE || s->in_feed) {
        return;
    }

    h2x_s_free(s, s->hfields);
    h2x_s_free(s, s->hbuf);
    s->hfields = NULL;
    s->hbuf = NULL;
    s->hbuf_size = 0;

    if (s->out_count == 0) {
        h2x_out_free(s);
    }

    if ((s->free_streams || s->free_nodes || s->hash || s->name_memo
         || s->enc_ready
         || (s->dec_ready && s->dec->count == 0))
        && !s->trim_pending)
    {
        s->trim_pending = 1;
        s->trim_deadline = s->now + H2X_IDLE_TRIM;
    }
}


static void
h2x_trim_lists(h2x_session_t *s)
{
    h2x_cnode_t   *n;
    h2x_stream_t  *st;

    s->trim_pending = 0;

    if (s->nstreams) {
        return;
    }

    while ((st = s->free_streams) != NULL) {
        s->free_streams = st->hnext;
        h2x_s_free(s, st);
    }

    while ((n = s->free_nodes) != NULL) {
        s->free_nodes = n->next;
        h2x_s_free(s, n);
    }

    h2x_trim_tables(s);
}


/*
 * The stream table, the name memo and the HPACK tables: rebuilt by the
 * next request at little cost, unlike the free lists, which a busy
 * connection would otherwise refill for every burst.
 */
static void
h2x_trim_tables(h2x_session_t *s)
{
    uint32_t  i;

    if (s->nstreams || s->hb_kind != H2X_HB_NONE || s->in_feed) {
        return;
    }

    if (s->hash) {
        for (i = 0; i <= s->hash_mask; i++) {
            if (s->hash[i]) {
                break;
            }
        }

        if (i > s->hash_mask) {
            h2x_s_free(s, s->hash);
            s->hash = NULL;
        }
    }

    /*
     * The HPACK tables are most of an idle session.  Ours goes: the next
     * header block starts with a size update to 0, so the peer drops its
     * copy too.  The peer's goes only when empty; its current maximum
     * (set by the peer's size updates) is kept for the next block.
     */

    if (s->enc_ready) {
        h2x_hpack_enc_free(s->enc);
        h2x_s_free(s, s->enc);
        s->enc = NULL;
        s->enc_ready = 0;
        s->enc_forgot = 1;
    }

    if (s->dec_ready && s->dec->count == 0) {
        s->dec_max_size = s->dec->max_size;
        s->dec_saved = 1;
        h2x_hpack_dec_free(s->dec);
        h2x_s_free(s, s->dec);
        s->dec = NULL;
        s->dec_ready = 0;
    }

    h2x_s_free(s, s->name_memo);
    s->name_memo = NULL;
}


/* session end */
static void
h2x_hpack_tables_free(h2x_session_t *s)
{
    if (s->dec_ready) {
        h2x_hpack_dec_free(s->dec);
    }

    if (s->enc_ready) {
        h2x_hpack_enc_free(s->enc);
    }

    h2x_s_free(s, s->dec);
    h2x_s_free(s, s->enc);
}


static int
h2x_hb_prepare(h2x_session_t *s)
{
    size_t  list;

    if (s->name_memo == NULL) {
        /* a cache: without it names are checked every time */
        s->name_memo = h2x_s_alloc(s, H2X_NAME_MEMO_SETS
                                      * sizeof(h2x_name_memo_t[2]));
        if (s->name_memo) {
            memset(s->name_memo, 0, H2X_NAME_MEMO_SETS
                                    * sizeof(h2x_name_memo_t[2]));
        }
    }

    if (s->hbuf == NULL) {
        list = s->cfg.max_header_list_size;

        s->hfields = h2x_s_alloc(s, s->cfg.max_header_fields
                                    * sizeof(h2x_header_t));
        if (s->hfields == NULL) {
            return H2X_NOMEM;
        }

        /* decoded strings, then room to join cookie crumbs */
        s->hbuf = h2x_s_alloc(s, 2 * list);
        if (s->hbuf == NULL) {
            h2x_s_free(s, s->hfields);
            s->hfields = NULL;
            return H2X_NOMEM;
        }

        s->hbuf_size = 2 * list;
    }

    h2x_hpack_out_init(&s->hb_out, s->hfields, s->cfg.max_header_fields,
                       s->hbuf, s->cfg.max_header_list_size);

    return H2X_OK;
}


static void
h2x_hb_discard(h2x_session_t *s, uint32_t error)
{
    s->hb_kind = H2X_HB_DISCARD;
    s->hb_error = error;
    h2x_hpack_out_init(&s->hb_out, NULL, 0, NULL, 0);
}


static int
h2x_headers_start(h2x_session_t *s, const h2x_frame_header_t *fh)
{
    uint32_t       sid;
    uint8_t        how;
    h2x_stream_t  *st;

    sid = fh->stream_id;

    s->hb_flags = fh->flags;
    s->hb_stream_id = sid;
    s->hb_error = 0;
    s->hb_conts = 0;
    s->hb_stream = NULL;
    s->hb_rc = H2X_AGAIN;

    /* RFC 9113 5.1.1 */
    if ((sid & 1) == 0) {
        return h2x_conn_error(s, H2X_PROTOCOL_ERROR,
                              "client sent HEADERS frame with even stream id");
    }

    if (sid <= s->last_id) {
        st = h2x_stream_find(s, sid);

        if (st && st->state != H2X_ST_CLOSED && !st->recv_end) {
            /* trailers; RFC 9113 8.1: they carry END_STREAM */
            s->hb_kind = H2X_HB_TRAILERS;
            s->hb_stream = st;

            if (!(fh->flags & H2X_FLAG_END_STREAM)) {
                s->hb_error = H2X_PROTOCOL_ERROR;
            }

            if (h2x_hb_prepare(s) != H2X_OK) {
                h2x_hb_discard(s, H2X_INTERNAL_ERROR);
                s->hb_stream = st;
            }

            return 0;
        }

        if (st && st->state != H2X_ST_CLOSED) {
            /* RFC 9113 5.1: half-closed (remote) */
            h2x_hb_discard(s, H2X_STREAM_CLOSED);
            s->hb_stream = st;
            return 0;
        }

        how = st ? st->gone : h2x_recall(s, sid);

        if (how == H2X_GONE_OUR_RST
            || (s->goaway_sent && sid > s->goaway_last_id))
        {
            /* RFC 9113 5.1: ignored after our RST_STREAM */
            h2x_hb_discard(s, 0);
            return 0;
        }

        if (how == 0 && st == NULL) {
            /* RFC 9113 5.1.1: never opened, ids only increase */
            return h2x_conn_error(s, H2X_PROTOCOL_ERROR,
                                  "client sent HEADERS frame with "
                                  "decreasing stream id");
        }

        /* RFC 9113 5.1 */
        return h2x_conn_error(s, H2X_STREAM_CLOSED,
                              "client sent HEADERS frame on closed stream");
    }

    /* a new stream */
    s->last_id = sid;

    if (s->goaway_sent) {
        /* RFC 9113 6.8: after GOAWAY, new streams are ignored */
        h2x_hb_discard(s, 0);
        return 0;
    }

    h2x_bucket_refill(&s->rst_bucket, s->now);

    if (s->rst_bucket.tokens == 0) {
        return h2x_rapid_reset(s);
    }

    if (s->cfg.max_new_streams_per_feed
        && ++s->new_streams > s->cfg.max_new_streams_per_feed)
    {
        return h2x_refuse(s, sid, "client sent too many streams at once");
    }

    if (s->nslots >= s->cfg.max_concurrent_streams) {
        /* RFC 9113 5.1.2 */
        return h2x_refuse(s, sid,
                          "client exceeded the concurrent streams limit");
    }

    if (s->requests >= s->cfg.max_requests) {
        return h2x_refuse(s, sid,
                          "client exceeded the requests per connection "
                          "limit");
    }

    s->hb_kind = H2X_HB_REQUEST;

    if (h2x_hb_prepare(s) != H2X_OK) {
        h2x_hb_discard(s, H2X_REFUSED_STREAM);
    }

    return 0;
}


/*
 * A frame that asks for an ACK while the ACKs already queued are not
 * being read: the peer is flooding us (CVE-2019-9512, CVE-2019-9515).
 */
static int
h2x_ack_flood(h2x_session_t *s, uint64_t *counter, const char *reason)
{
    if (s->ctrl_pending < s->cfg.max_control_queue) {
        return 0;
    }

    s->stats.control_queue_flood++;
    (*counter)++;
    (void) h2x_conn_error(s, H2X_ENHANCE_YOUR_CALM, reason);

    return 1;
}


static int
h2x_on_frame_header(void *data, const h2x_frame_header_t *fh)
{
    h2x_session_t  *s = data;
    uint8_t         how;
    h2x_stream_t   *st;

    if (fh->type <= H2X_FRAME_CONTINUATION) {
        s->stats.frames_in[fh->type]++;
    } else {
        s->stats.frames_in_other++;
    }

    /* RFC 9113 3.4: the preface ends with a SETTINGS frame */
    if (!s->got_settings && !s->cfg.lenient_preface) {
        if (fh->type != H2X_FRAME_SETTINGS || (fh->flags & H2X_FLAG_ACK)) {
            return h2x_conn_error(s, H2X_PROTOCOL_ERROR,
                                  "client sent frame other than SETTINGS "
                                  "after preface");
        }
    }

    switch (fh->type) {

    case H2X_FRAME_DATA:
        s->cur = NULL;
        s->cur_skip = 1;
        s->cur_data = 0;
        s->cur_len = fh->length;

        /* RFC 9113 5.1: idle */
        if (fh->stream_id > s->last_id) {
            return h2x_conn_error(s, H2X_PROTOCOL_ERROR,
                                  "client sent DATA frame on idle stream");
        }

        /* RFC 9113 6.9.1: counted whatever the stream's state */
        if ((int64_t) fh->length > s->conn_recv_window) {
            return h2x_conn_error(s, H2X_FLOW_CONTROL_ERROR,
                                  "client sent DATA frame exceeding "
                                  "connection window");
        }

        s->conn_recv_window -= fh->length;

        st = h2x_stream_find(s, fh->stream_id);

        if (st == NULL || st->state == H2X_ST_CLOSED || st->recv_end) {

            if (st && st->state != H2X_ST_CLOSED) {
                /* RFC 9113 5.1: half-closed (remote) */
                return h2x_stream_error(s, fh->stream_id, H2X_STREAM_CLOSED,
                                        "client sent DATA frame on "
                                        "half-closed stream");
            }

            how = st ? (st->rst_in ? H2X_GONE_PEER_RST : st->gone)
                     : h2x_recall(s, fh->stream_id);

            if (how == H2X_GONE_NORMAL) {
                /* RFC 9113 5.1 */
                return h2x_conn_error(s, H2X_STREAM_CLOSED,
                                      "client sent DATA frame on closed "
                                      "stream");
            }

            if (how == H2X_GONE_PEER_RST) {
                /* RFC 9113 5.1 */
                return h2x_stream_error(s, fh->stream_id, H2X_STREAM_CLOSED,
                                        "client sent DATA frame after "
                                        "RST_STREAM");
            }

            /* after our RST_STREAM, or forgotten: ignored (5.1) */
            if (fh->length == 0 && !(fh->flags & H2X_FLAG_END_STREAM)) {
                /* but never useful: not a free flood either */
                return h2x_glitch(s, &s->stats.empty_frame_flood,
                                  "client sent too many empty frames");
            }

            return 0;
        }

        /* RFC 9113 6.9.1 */
        if ((int64_t) fh->length > st->recv_window) {
            return h2x_stream_error(s, fh->stream_id, H2X_FLOW_CONTROL_ERROR,
                                    "client sent DATA frame exceeding "
                                    "stream window");
        }

        st->recv_window -= fh->length;

        if (fh->length == 0 && !(fh->flags & H2X_FLAG_END_STREAM)) {
            if (h2x_glitch(s, &s->stats.empty_frame_flood,
                           "client sent too many empty frames")
                != H2X_OK)
            {
                return H2X_ERROR;
            }
        }

        s->cur = st;
        s->cur_skip = 0;

        return 0;

    case H2X_FRAME_HEADERS:
        /* slow headers: the whole block, CONTINUATIONs do not extend it */
        s->hb_deadline = s->now + s->cfg.header_timeout;

        if (h2x_dec_prepare(s) != H2X_OK) {
            return h2x_conn_error(s, H2X_INTERNAL_ERROR,
                                  "out of memory for the HPACK decoder");
        }
        return h2x_headers_start(s, fh);

    case H2X_FRAME_CONTINUATION:
        /* CVE-2024-27316 family: bounded per block */
        if (++s->hb_conts > s->cfg.max_continuations) {
            s->stats.continuation_flood++;
            return h2x_conn_error(s, H2X_ENHANCE_YOUR_CALM,
                                  "client sent too many CONTINUATION "
                                  "frames");
        }

        if (fh->length == 0 && !(fh->flags & H2X_FLAG_END_HEADERS)) {
            if (h2x_glitch(s, &s->stats.continuation_flood,
                           "client sent too many empty CONTINUATION frames")
                != H2X_OK)
            {
                return H2X_ERROR;
            }
        }

        return 0;

    case H2X_FRAME_PRIORITY:
        /* RFC 9218 2.1: we do not use RFC 7540 priorities */
        return h2x_glitch(s, &s->stats.priority_flood,
                          "client sent too many PRIORITY frames");

    case H2X_FRAME_RST_STREAM:
        s->stats.resets_in++;

        /* RFC 9113 6.4, 5.1 */
        if (fh->stream_id > s->last_id) {
            return h2x_conn_error(s, H2X_PROTOCOL_ERROR,
                                  "client sent RST_STREAM frame on idle "
                                  "stream");
        }

        return 0;

    case H2X_FRAME_SETTINGS:
        s->set_mask = 0;

        if (fh->flags & H2X_FLAG_ACK) {
            /* we send SETTINGS once: any further ACK is useless */
            if (s->settings_acked) {
                return h2x_glitch(s, &s->stats.settings_flood,
                                  "client sent too many SETTINGS ACK "
                                  "frames");
            }

            return 0;
        }

        /* CVE-2019-9515: ACKs the peer does not read */
        if (h2x_ack_flood(s, &s->stats.settings_flood,
                          "client sent too many SETTINGS frames "
                          "without reading"))
        {
            return H2X_ERROR;
        }

        if (s->got_settings) {
            if (h2x_glitch(s, &s->stats.settings_flood,
                           "client sent too many SETTINGS frames")
                != H2X_OK)
            {
                return H2X_ERROR;
            }
        }

        s->got_settings = 1;

        return 0;

    case H2X_FRAME_PUSH_PROMISE:
        /* RFC 9113 8.4 */
        return h2x_conn_error(s, H2X_PROTOCOL_ERROR,
                              "client sent PUSH_PROMISE frame");

    case H2X_FRAME_PING:
        if (fh->flags & H2X_FLAG_ACK) {
            return 0;
        }

        /* CVE-2019-9512 */
        if (h2x_ack_flood(s, &s->stats.ping_flood,
                          "client sent too many PING frames "
                          "without reading"))
        {
            return H2X_ERROR;
        }

        return h2x_glitch(s, &s->stats.ping_flood,
                          "client sent too many PING frames");

    case H2X_FRAME_WINDOW_UPDATE:
        /* RFC 9113 5.1: idle */
        if (fh->stream_id > s->last_id) {
            return h2x_conn_error(s, H2X_PROTOCOL_ERROR,
                                  "client sent WINDOW_UPDATE frame on idle "
                                  "stream");
        }
        return 0;

    case H2X_FRAME_GOAWAY:
    case H2X_FRAME_PRIORITY_UPDATE:
        return 0;

    default:
        /* RFC 9113 5.5: ignored, but not for free */
        return h2x_glitch(s, &s->stats.unknown_frame_flood,
                          "client sent too many unknown frames");
    }
}


static int
h2x_on_data(void *data, const h2x_frame_header_t *fh, const uint8_t *p,
    size_t len)
{
    h2x_session_t  *s = data;
    size_t          room;
    uint8_t        *buf;
    h2x_stream_t   *st;

    (void) fh;

    st = s->cur;

    if (s->cur_skip || st == NULL) {
        return 0;
    }

    st->data_received += len;

    /* RFC 9113 8.1.1 */
    if (st->content_length >= 0
        && st->data_received > (uint64_t) st->content_length)
    {
        s->cur_skip = 1;
        return h2x_stream_error(s, st->id, H2X_PROTOCOL_ERROR,
                                "client sent more DATA than "
                                "content-length");
    }

    s->cur_data += (uint32_t) len;

    if (s->cb.on_data) {
        st->unconsumed += len;

        if (s->cb.on_data(s, st, p, len, 0, s->user) != H2X_OK) {
            if (s->cur == st) {
                s->cur_skip = 1;
                h2x_stream_do_reset(s, st, H2X_INTERNAL_ERROR);
            }
        }

        return s->failed ? H2X_ERROR : 0;
    }

    /* kept for h2x_stream_read(): at most the window we granted */
    if (st->rbuf_end + len > st->rbuf_size && st->rbuf_start) {
        memmove(st->rbuf, st->rbuf + st->rbuf_start,
                st->rbuf_end - st->rbuf_start);
        st->rbuf_end -= st->rbuf_start;
        st->rbuf_start = 0;
    }

    if (st->rbuf_end + len > st->rbuf_size) {
        /* grows as the peer fills the window, from 16 KiB */
        room = st->rbuf_size ? 2 * st->rbuf_size : 16384;
        while (room < st->rbuf_end + len) {
            room *= 2;
        }

        buf = h2x_s_alloc(s, room);
        if (buf == NULL) {
            s->cur_skip = 1;
            s->cur_data -= (uint32_t) len;
            h2x_stream_do_reset(s, st, H2X_INTERNAL_ERROR);
            return 0;
        }

        if (st->rbuf_end) {
            memcpy(buf, st->rbuf, st->rbuf_end);
        }

        h2x_s_free(s, st->rbuf);
        st->rbuf = buf;
        st->rbuf_size = room;
    }

    memcpy(st->rbuf + st->rbuf_end, p, len);
    st->rbuf_end += len;

    return 0;
}


/* The request body ended (END_STREAM on DATA or trailers). */
static int
h2x_stream_recv_end(h2x_session_t *s, h2x_stream_t *st)
{
    (void) s;

    /* RFC 9113 8.1.1 */
    if (st->content_length >= 0
        && st->data_received != (uint64_t) st->content_length)
    {
        return H2X_ERROR;
    }

    st->recv_end = 1;

    if (st->state == H2X_ST_OPEN) {
        st->state = H2X_ST_HALF_CLOSED_REMOTE;
    }

    return H2X_OK;
}


/* The DATA frame ended: padding and dropped bytes are credited now. */
static int
h2x_data_end(h2x_session_t *s, const h2x_frame_header_t *fh)
{
    uint32_t       undelivered;
    h2x_stream_t  *st;

    st = s->cur_skip ? NULL : s->cur;
    undelivered = s->cur_len - s->cur_data;

    s->cur = NULL;
    s->cur_len = 0;
    s->cur_data = 0;

    if (undelivered) {
        h2x_credit(s, st, undelivered);
    }

    if (st == NULL || !(fh->flags & H2X_FLAG_END_STREAM)) {
        return s->failed ? H2X_ERROR : 0;
    }

    if (h2x_stream_recv_end(s, st) != H2X_OK) {
        return h2x_stream_error(s, st->id, H2X_PROTOCOL_ERROR,
                                "client sent less DATA than "
                                "content-length");
    }

    st->refs++;

    if (s->cb.on_data && !st->released) {
        (void) s->cb.on_data(s, st, NULL, 0, H2X_DATA_END_STREAM, s->user);
    }

    if (st->state == H2X_ST_HALF_CLOSED_LOCAL) {
        h2x_stream_closed(s, st, H2X_NO_ERROR);
    }

    h2x_stream_unref(s, st);

    return s->failed ? H2X_ERROR : 0;
}


/* The decoder's verdict on a header block: a connection error or not. */
static int
h2x_hb_decoded(h2x_session_t *s, int rc)
{
    if (rc == H2X_ERROR) {
        /* RFC 9113 4.3 */
        return h2x_conn_error(s, H2X_COMPRESSION_ERROR,
                              "client sent invalid header block");
    }

    if (rc == H2X_HPACK_CALM) {
        s->stats.hpack_bomb++;
        return h2x_conn_error(s, H2X_ENHANCE_YOUR_CALM,
                              "client sent too large header block");
    }

    return H2X_OK;
}


static int
h2x_on_header_block(void *data, const h2x_frame_header_t *fh,
    const uint8_t *p, size_t len)
{
    h2x_session_t  *s = data;
    int             rc;

    (void) fh;

    rc = h2x_hpack_decode(s->dec, p, len, 0, &s->hb_out);

    if (h2x_hb_decoded(s, rc) != H2X_OK) {
        return H2X_ERROR;
    }

    s->hb_rc = rc;

    return 0;
}


static void
h2x_apply_priority(h2x_session_t *s, h2x_stream_t *st, uint8_t urgency,
    uint8_t incremental)
{
    if (st->urgency == urgency && st->incremental == incremental) {
        return;
    }

    h2x_sched_remove(s, st);
    st->urgency = urgency;
    st->incremental = incremental;
    h2x_sched_update(s, st);
}


static int
h2x_request_end(h2x_session_t *s, int rc)
{
    size_t          i;
    uint8_t         u, inc;
    uint32_t        sid;
    const char          *reason;
    h2x_stream_t        *st;
    h2x_request_t        req;
    const h2x_header_t  *prio;

    sid = s->hb_stream_id;

    if (rc == H2X_HPACK_TOO_LARGE) {
        /* answered 431 (RFC 6585 5) without reaching the adapter */
        s->stats.header_too_large++;
        h2x_s_log(s, sid, H2X_NO_ERROR, "client sent too large header");

        if (++s->stream_errors > s->cfg.max_stream_errors) {
            s->stats.stream_errors++;
            return h2x_conn_error(s, H2X_ENHANCE_YOUR_CALM,
                                  "client caused too many stream errors");
        }

        if (h2x_out_headers(s, sid, "431", NULL, 0, 1) != H2X_OK) {
            return h2x_conn_error(s, H2X_INTERNAL_ERROR,
                                  "out of memory for a response");
        }

        if (!(s->hb_flags & H2X_FLAG_END_STREAM)) {
            /* RFC 9113 8.1: the response is complete, stop the body */
            (void) h2x_out_rst(s, sid, H2X_NO_ERROR);
        }

        h2x_remember(s, sid, H2X_GONE_OUR_RST);

        return 0;
    }

    if (s->hb_error) {
        return h2x_stream_error(s, sid, s->hb_error,
                                "client sent HEADERS frame with stream "
                                "depending on itself");
    }

    if (h2x_request_parse(s, s->hb_out.fields, s->hb_out.nfields, &req,
                          &prio, &reason)
        != H2X_OK)
    {
        return h2x_stream_error(s, sid, H2X_PROTOCOL_ERROR, reason);
    }

    req.end_stream = (s->hb_flags & H2X_FLAG_END_STREAM) ? 1 : 0;

    if (s->goaway_sent && sid > s->goaway_last_id) {
        /* RFC 9113 6.8: the block began before our last GOAWAY */
        h2x_remember(s, sid, H2X_GONE_OUR_RST);
        return 0;
    }

    /* RFC 9113 8.1.1 */
    if (req.end_stream && req.content_length > 0) {
        return h2x_stream_error(s, sid, H2X_PROTOCOL_ERROR,
                                "client sent content-length without body");
    }

    st = h2x_stream_create(s, sid);
    if (st == NULL) {
        (void) h2x_out_rst(s, sid, H2X_REFUSED_STREAM);
        h2x_remember(s, sid, H2X_GONE_OUR_RST);
        s->stats.streams_refused++;
        return 0;
    }

    st->state = req.end_stream ? H2X_ST_HALF_CLOSED_REMOTE : H2X_ST_OPEN;
    st->recv_end = req.end_stream;
    st->content_length = req.content_length;

    /* RFC 9218 4, 5: without a signal, round robin */
    if (prio) {
        u = H2X_DEFAULT_URGENCY;
        inc = 0;
        if (h2x_priority_parse(prio->value, prio->value_len, &u, &inc)
            == H2X_OK)
        {
            st->urgency = u;
            st->incremental = inc;
        }
    }

    for (i = 0; i < s->nprio_pending; i++) {
        if (s->prio_pending[i].id == sid) {
            st->urgency = s->prio_pending[i].urgency;
            st->incremental = s->prio_pending[i].incremental;
            s->prio_pending[i] = s->prio_pending[--s->nprio_pending];
            break;
        }
    }

    st->announced = 1;
    st->slot = 1;
    s->last_accepted = sid;
    s->nactive++;
    s->nslots++;
    s->requests++;
    s->stats.streams++;

    st->refs++;

    if (s->cb.on_request
        && s->cb.on_request(s, st, &req, s->user) != H2X_OK)
    {
        h2x_stream_do_reset(s, st, H2X_INTERNAL_ERROR);
    }

    h2x_stream_unref(s, st);

    if (s->failed) {
        return H2X_ERROR;
    }

    /* connection lifetime: a graceful GOAWAY, then new connections */
    if (s->requests == s->cfg.max_requests) {
        (void) h2x_session_goaway(s, H2X_NO_ERROR, 1);
    }

    if (sid >= H2X_STREAM_ID_MASK - 2 * s->cfg.max_concurrent_streams
        && !s->goaway_step1 && !s->goaway_sent)
    {
        s->stats.stream_id_exhausted++;
        (void) h2x_session_goaway(s, H2X_NO_ERROR, 1);
    }

    return 0;
}


static int
h2x_trailers_end(h2x_session_t *s, int rc)
{
    const char     *reason;
    h2x_stream_t   *st;

    st = s->hb_stream;

    if (st == NULL || st->state == H2X_ST_CLOSED) {
        return 0;
    }

    if (s->hb_error) {
        /* RFC 9113 8.1 */
        return h2x_stream_error(s, st->id, s->hb_error,
                                "client sent trailers without END_STREAM");
    }

    if (rc == H2X_HPACK_TOO_LARGE) {
        s->stats.header_too_large++;
        return h2x_stream_error(s, st->id, H2X_ENHANCE_YOUR_CALM,
                                "client sent too large trailers");
    }

    if (h2x_trailers_check(s, s->hb_out.fields, s->hb_out.nfields, &reason)
        != H2X_OK)
    {
        return h2x_stream_error(s, st->id, H2X_PROTOCOL_ERROR, reason);
    }

    if (h2x_stream_recv_end(s, st) != H2X_OK) {
        return h2x_stream_error(s, st->id, H2X_PROTOCOL_ERROR,
                                "client sent less DATA than "
                                "content-length");
    }

    if (s->cb.on_data == NULL && s->hb_out.nfields && !st->released) {
        /* for h2x_stream_read(H2X_READ_CHUNKED), bounded by the limits */
        st->rtrailers = h2x_headers_copy(s, s->hb_out.fields,
                                         s->hb_out.nfields);
        if (st->rtrailers == NULL) {
            h2x_stream_do_reset(s, st, H2X_INTERNAL_ERROR);
            return s->failed ? H2X_ERROR : 0;
        }
    }

    st->refs++;

    if (!st->released) {
        if (s->cb.on_trailers) {
            (void) s->cb.on_trailers(s, st, s->hb_out.fields,
                                     s->hb_out.nfields, s->user);

        } else if (s->cb.on_data) {
            (void) s->cb.on_data(s, st, NULL, 0, H2X_DATA_END_STREAM,
                                 s->user);
        }
    }

    if (st->state == H2X_ST_HALF_CLOSED_LOCAL) {
        h2x_stream_closed(s, st, H2X_NO_ERROR);
    }

    h2x_stream_unref(s, st);

    return s->failed ? H2X_ERROR : 0;
}


static int
h2x_block_end(h2x_session_t *s)
{
    int            rc;
    uint8_t        kind;
    h2x_stream_t  *st;

    /* not NULL: the decoder computes in + len (UB with NULL) */
    rc = h2x_hpack_decode(s->dec, (const uint8_t *) "", 0, 1, &s->hb_out);

    kind = s->hb_kind;
    s->hb_kind = H2X_HB_NONE;

    if (h2x_hb_decoded(s, rc) != H2X_OK) {
        return H2X_ERROR;
    }

    switch (kind) {

    case H2X_HB_REQUEST:
        return h2x_request_end(s, rc);

    case H2X_HB_TRAILERS:
        return h2x_trailers_end(s, rc);

    default:
        if (s->hb_error == 0) {
            return 0;
        }

        st = s->hb_stream;

        if (s->hb_error == H2X_REFUSED_STREAM) {
            /* not the peer's fault: no stream error charged */
            (void) h2x_out_rst(s, s->hb_stream_id, H2X_REFUSED_STREAM);
            h2x_remember(s, s->hb_stream_id, H2X_GONE_OUR_RST);
            return 0;
        }

        if (s->hb_error == H2X_INTERNAL_ERROR && st) {
            h2x_stream_do_reset(s, st, H2X_INTERNAL_ERROR);
            return 0;
        }

        return h2x_stream_error(s, s->hb_stream_id, s->hb_error,
                                "client sent HEADERS frame on half-closed "
                                "stream");
    }
}


static int
h2x_on_rst_stream(void *data, const h2x_frame_header_t *fh, uint32_t code)
{
    h2x_session_t  *s = data;
    h2x_stream_t   *st;

    st = h2x_stream_find(s, fh->stream_id);

    /*
     * RFC 9113 5.1: a frame after the peer's own RST_STREAM is a stream
     * error STREAM_CLOSED, also when the stream was closed already (our
     * RST_STREAM NO_ERROR after a complete response, or our reset, may
     * cross the peer's): what the peer sends after its RST_STREAM is its
     * error whichever came first.
     */

    if (st == NULL) {
        if (fh->stream_id <= s->last_id) {
            h2x_recall_peer_rst(s, fh->stream_id);
        }
        return 0;
    }

    st->rst_in = 1;

    if (st->state == H2X_ST_CLOSED) {
        return 0;
    }

    /* CVE-2023-44487: resets of streams that got no response yet */
    if (!st->final_sent && !h2x_bucket_take(&s->rst_bucket, s->now)) {
        return h2x_rapid_reset(s);
    }

    st->gone = H2X_GONE_PEER_RST;
    h2x_stream_closed(s, st, code);

    return s->failed ? H2X_ERROR : 0;
}


static int
h2x_on_setting(void *data, const h2x_frame_header_t *fh, uint16_t id,
    uint32_t value)
{
    h2x_session_t  *s = data;

    (void) fh;

    if (id < 10) {
        s->set_mask |= 1u << id;
        s->set_val[id] = value;
    }

    return 0;
}


static void
h2x_settings_acked(h2x_session_t *s)
{
    uint32_t       i, old;
    h2x_stream_t  *st;

    s->settings_acked = 1;

    (void) h2x_frame_parser_set_max_frame_size(&s->parser,
                                               s->cfg.max_frame_size);

    if (s->cfg.header_table_size < 4096 && s->dec_ready) {
        (void) h2x_hpack_dec_set_max_table_size(s->dec,
                                                s->cfg.header_table_size);
    }

    /* RFC 9113 6.9.2: a smaller initial window applies now */
    old = s->local_iws;
    s->local_iws = s->cfg.initial_window_size;

    if (old != s->local_iws && s->hash) {
        for (i = 0; i <= s->hash_mask; i++) {
            for (st = s->hash[i]; st; st = st->hnext) {
                st->recv_window -= (int64_t) old - s->local_iws;
                h2x_credit(s, st, 0);
            }
        }
    }
}


static int
h2x_settings_apply(h2x_session_t *s)
{
    uint32_t       i, v;
    int64_t        delta;
    h2x_stream_t  *st;
    uint8_t        ack[H2X_FRAME_HEADER_SIZE];

    if (s->set_mask & (1u << H2X_SETTINGS_HEADER_TABLE_SIZE)) {
        s->peer_table_size = s->set_val[H2X_SETTINGS_HEADER_TABLE_SIZE];
        s->peer_table_set = 1;
        if (s->enc_ready) {
            h2x_hpack_enc_set_peer_table_size(s->enc, s->peer_table_size);
        }
    }

    if (s->set_mask & (1u << H2X_SETTINGS_MAX_FRAME_SIZE)) {
        s->peer_max_frame = s->set_val[H2X_SETTINGS_MAX_FRAME_SIZE];
    }

    if (s->set_mask & (1u << H2X_SETTINGS_INITIAL_WINDOW_SIZE)) {
        v = s->set_val[H2X_SETTINGS_INITIAL_WINDOW_SIZE];

        /* RFC 9113 6.9.2: applied to every stream, may go negative */
        delta = (int64_t) v - s->peer_iws;
        s->peer_iws = v;

        if (delta && s->hash) {
            for (i = 0; i <= s->hash_mask; i++) {
                for (st = s->hash[i]; st; st = st->hnext) {
                    st->send_window += delta;

                    if (st->send_window > H2X_MAX_WINDOW) {
                        return h2x_conn_error(s, H2X_FLOW_CONTROL_ERROR,
                                              "client sent SETTINGS frame "
                                              "overflowing a window");
                    }

                    h2x_sched_update(s, st);
                }
            }
        }
    }

    h2x_frame_write_settings_ack(ack);

    if (h2x_out_frame(s, ack, sizeof(ack), 1) != H2X_OK) {
        return h2x_conn_error(s, H2X_INTERNAL_ERROR,
                              "out of memory for SETTINGS ACK");
    }

    return 0;
}


static int
h2x_on_ping(void *data, const h2x_frame_header_t *fh, const uint8_t *opaque)
{
    h2x_session_t  *s = data;
    uint8_t         f[H2X_FRAME_PING_SIZE];

    if (fh->flags & H2X_FLAG_ACK) {
        if (s->goaway_step1 && memcmp(opaque, H2X_GOAWAY_PING, 8) == 0) {
            h2x_goaway_final(s);
        }
        return 0;
    }

    /* RFC 9113 6.7 */
    h2x_frame_write_ping(f, opaque, 1);

    if (h2x_out_frame(s, f, sizeof(f), 1) != H2X_OK) {
        return h2x_conn_error(s, H2X_INTERNAL_ERROR,
                              "out of memory for PING ACK");
    }

    return 0;
}


static int
h2x_on_goaway(void *data, const h2x_frame_header_t *fh,
    uint32_t last_stream_id, uint32_t code)
{
    h2x_session_t  *s = data;

    (void) fh;

    s->stats.goaways_in++;
    s->goaway_recv = 1;

    if (code != H2X_NO_ERROR) {
        h2x_s_log(s, 0, code, "client sent GOAWAY with error");
    }

    if (s->cb.on_goaway) {
        s->cb.on_goaway(s, last_stream_id, code, s->user);
    }

    return s->failed ? H2X_ERROR : 0;
}


static int
h2x_on_window_update(void *data, const h2x_frame_header_t *fh,
    uint32_t increment)
{
    h2x_session_t  *s = data;
    int64_t         old;
    h2x_stream_t   *st;

    if (fh->stream_id == 0) {
        s->conn_send_window += increment;

        /* RFC 9113 6.9.1 */
        if (s->conn_send_window > H2X_MAX_WINDOW) {
            return h2x_conn_error(s, H2X_FLOW_CONTROL_ERROR,
                                  "client sent WINDOW_UPDATE frame "
                                  "overflowing connection window");
        }

        return 0;
    }

    st = h2x_stream_find(s, fh->stream_id);

    if (st == NULL || st->state == H2X_ST_CLOSED) {
        /* RFC 9113 5.1: allowed for a while after closing */
        return h2x_glitch(s, &s->stats.window_update_flood,
                          "client sent too many WINDOW_UPDATE frames");
    }

    old = st->send_window;
    st->send_window += increment;

    /* RFC 9113 6.9.1 */
    if (st->send_window > H2X_MAX_WINDOW) {
        return h2x_stream_error(s, st->id, H2X_FLOW_CONTROL_ERROR,
                                "client sent WINDOW_UPDATE frame "
                                "overflowing stream window");
    }

    h2x_sched_update(s, st);

    if (old <= 0 && st->send_window > 0 && st->queued
        && s->cb.on_writable && !st->released)
    {
        s->cb.on_writable(s, st, s->user);
    }

    return s->failed ? H2X_ERROR : 0;
}


static int
h2x_on_priority_update(void *data, const h2x_frame_header_t *fh,
    uint32_t prioritized_stream_id)
{
    h2x_session_t  *s = data;

    (void) fh;

    s->pu_id = prioritized_stream_id;
    s->pu_len = 0;

    return 0;
}


static int
h2x_on_priority_field(void *data, const h2x_frame_header_t *fh,
    const uint8_t *p, size_t len)
{
    h2x_session_t  *s = data;

    (void) fh;

    if (s->pu_len == 0xff || s->pu_len + len > sizeof(s->pu_buf)) {
        s->pu_len = 0xff;   /* too long for us: ignored */
        return 0;
    }

    memcpy(s->pu_buf + s->pu_len, p, len);
    s->pu_len += (uint8_t) len;

    return 0;
}


static int
h2x_priority_update_end(h2x_session_t *s)
{
    uint32_t       i, sid;
    uint8_t        u, inc;
    h2x_stream_t  *st;

    sid = s->pu_id;

    /* RFC 9218 7.1: even ids would be push streams */
    if ((sid & 1) == 0) {
        return h2x_conn_error(s, H2X_PROTOCOL_ERROR,
                              "client sent PRIORITY_UPDATE for a push "
                              "stream");
    }

    if (s->pu_len == 0xff) {
        return 0;
    }

    u = H2X_DEFAULT_URGENCY;
    inc = 0;

    if (h2x_priority_parse(s->pu_buf, s->pu_len, &u, &inc) != H2X_OK) {
        return 0;
    }

    if (sid > s->last_id) {
        /* RFC 9218 7.1: kept for the stream to come, bounded */
        for (i = 0; i < s->nprio_pending; i++) {
            if (s->prio_pending[i].id == sid) {
                break;
            }
        }

        if (i == s->nprio_pending) {
            if (s->nprio_pending >= s->cfg.max_priority_updates) {
                s->stats.priority_flood++;
                return h2x_conn_error(s, H2X_ENHANCE_YOUR_CALM,
                                      "client sent too many PRIORITY_UPDATE "
                                      "frames for idle streams");
            }

            if (s->prio_pending == NULL) {
                s->prio_pending = h2x_s_alloc(s, s->cfg.max_priority_updates
                                              * sizeof(h2x_prio_pending_t));
                if (s->prio_pending == NULL) {
                    return 0;
                }
            }

            s->nprio_pending++;
        }

        s->prio_pending[i].id = sid;
        s->prio_pending[i].urgency = u;
        s->prio_pending[i].incremental = inc;

        return 0;
    }

    st = h2x_stream_find(s, sid);

    if (st && st->state != H2X_ST_CLOSED) {
        h2x_apply_priority(s, st, u, inc);
    }

    return 0;
}


static int
h2x_on_frame_end(void *data, const h2x_frame_header_t *fh)
{
    h2x_session_t  *s = data;

    switch (fh->type) {

    case H2X_FRAME_DATA:
        return h2x_data_end(s, fh);

    case H2X_FRAME_HEADERS:
    case H2X_FRAME_CONTINUATION:
        if (fh->flags & H2X_FLAG_END_HEADERS) {
            return h2x_block_end(s);
        }
        return 0;

    case H2X_FRAME_SETTINGS:
        if (fh->flags & H2X_FLAG_ACK) {
            if (!s->settings_acked) {
                h2x_settings_acked(s);
            }
            return 0;
        }
        return h2x_settings_apply(s);

    case H2X_FRAME_PRIORITY_UPDATE:
        return h2x_priority_update_end(s);

    default:
        return 0;
    }
}


static int
h2x_on_stream_error(void *data, const h2x_frame_error_t *err)
{
    h2x_session_t  *s = data;
    uint8_t         type;

    type = s->parser.hd.type;

    if (type == H2X_FRAME_DATA) {
        /* the frame is skipped: its bytes are credited at once */
        s->cur_skip = 1;
        if (s->cur_len > s->cur_data) {
            h2x_credit(s, NULL, s->cur_len - s->cur_data);
        }
        s->cur_len = 0;
        s->cur_data = 0;
    }

    /*
     * RFC 9113 5.3.1 makes a stream depending on itself a stream error;
     * 5.4 lets an endpoint treat a stream error as a connection error,
     * which nginx's builtin does here.
     */
    if (s->cfg.self_dependency_conn_error && err->code == H2X_PROTOCOL_ERROR
        && (type == H2X_FRAME_PRIORITY || type == H2X_FRAME_HEADERS))
    {
        return h2x_conn_error(s, H2X_PROTOCOL_ERROR, err->reason);
    }

    if (type == H2X_FRAME_HEADERS) {
        /* RFC 9113 5.3.1: reset after the block, kept for HPACK */
        if (s->hb_kind == H2X_HB_REQUEST || s->hb_kind == H2X_HB_TRAILERS) {
            s->hb_error = err->code;
        }
        return 0;
    }

    /* RFC 9113 5.1: frames other than PRIORITY on idle streams */
    if (err->stream_id > s->last_id && type != H2X_FRAME_PRIORITY) {
        return h2x_conn_error(s, H2X_PROTOCOL_ERROR, err->reason);
    }

    return h2x_stream_error(s, err->stream_id, err->code, err->reason);
}


/* A header block that has been coming in for too long. */
static int
h2x_header_timeout(h2x_session_t *s)
{
    if (s->hb_kind == H2X_HB_NONE || s->cfg.header_timeout == 0
        || s->now < s->hb_deadline)
    {
        return 0;
    }

    s->stats.header_timeout++;
    (void) h2x_conn_error(s, H2X_ENHANCE_YOUR_CALM,
                          "client did not complete a header block in time");

    return 1;
}


/* The graceful GOAWAY's PING deadline starts at the first clock reading. */
static void
h2x_goaway_arm(h2x_session_t *s)
{
    if (s->goaway_step1 && !s->goaway_armed) {
        s->goaway_armed = 1;
        s->goaway_deadline = s->now + s->cfg.goaway_ping_timeout;
    }
}


long
h2x_session_feed(h2x_session_t *s, const uint8_t *in, size_t len,
    uint64_t now)
{
    int                       rc;
    const h2x_frame_error_t  *err;

    if (s->failed) {
        return H2X_ERROR;
    }

    s->now = now;
    h2x_goaway_arm(s);

    if (!s->clock) {
        s->clock = 1;
        s->rst_bucket.last = now;
        s->glitch_bucket.last = now;
        s->settings_deadline = now + s->cfg.settings_ack_timeout;
    }

    s->stats.bytes_in += len;
    s->new_streams = 0;

    /* a read may come before the timer: the deadline holds all the same */
    if (h2x_header_timeout(s)) {
        return H2X_ERROR;
    }

    s->in_feed = 1;

    rc = h2x_frame_parse(&s->parser, in, len);

    s->in_feed = 0;

    if (rc != H2X_OK && !s->failed) {
        err = h2x_frame_parser_error(&s->parser);

        if (err && err->code == H2X_ENHANCE_YOUR_CALM) {
            /* the parser's only abuse limit: SETTINGS entries per frame */
            s->stats.settings_flood++;
        }

        (void) h2x_conn_error(s, err ? err->code : H2X_INTERNAL_ERROR,
                              err ? err->reason : "frame parser failed");
    }

    h2x_check_nomem(s);

    if (s->failed) {
        return H2X_ERROR;
    }

    h2x_trim(s);

    return (long) len;
}


static void
h2x_goaway_final(h2x_session_t *s)
{
    s->goaway_step1 = 0;
    s->goaway_sent = 1;
    s->goaway_last_id = s->last_accepted;

    (void) h2x_out_goaway(s, s->last_accepted, s->goaway_code, NULL);
}


void
h2x_session_tick(h2x_session_t *s, uint64_t now)
{
    s->now = now;
    h2x_goaway_arm(s);

    if (s->failed) {
        return;
    }

    /* RFC 9113 6.5.3 */
    if (!s->settings_acked && s->clock && now >= s->settings_deadline) {
        (void) h2x_conn_error(s, H2X_SETTINGS_TIMEOUT,
                              "client did not acknowledge SETTINGS in time");
        return;
    }

    if (h2x_header_timeout(s)) {
        return;
    }

    if (s->goaway_step1 && now >= s->goaway_deadline) {
        h2x_goaway_final(s);
    }

    if (s->trim_pending && now >= s->trim_deadline) {
        h2x_trim_lists(s);
    }
}


void
h2x_session_shrink(h2x_session_t *s)
{
    if (s->nstreams || s->hb_kind != H2X_HB_NONE || s->in_feed) {
        return;
    }

    h2x_trim(s);
    h2x_trim_tables(s);
}


uint64_t
h2x_session_next_timeout(h2x_session_t *s)
{
    uint64_t  t;

    t = UINT64_MAX;

    if (s->failed) {
        return t;
    }

    if (!s->settings_acked && s->clock) {
        t = s->settings_deadline;
    }

    if (s->goaway_step1) {
        /* not armed yet: the adapter's next tick() reads the clock */
        t = s->goaway_armed ? (s->goaway_deadline < t ? s->goaway_deadline
                                                      : t)
                            : 0;
    }

    if (s->trim_pending && s->trim_deadline < t) {
        t = s->trim_deadline;
    }

    if (s->hb_kind != H2X_HB_NONE && s->cfg.header_timeout
        && s->hb_deadline < t)
    {
        t = s->hb_deadline;
    }

    return t;
}


int
h2x_session_want_read(h2x_session_t *s)
{
    if (s->failed || h2x_session_want_close(s)) {
        return 0;
    }

    /* CVE-2019-9517: a peer that does not read stops being read */
    return s->unsent <= s->cfg.max_unsent_output;
}


int
h2x_session_want_close(h2x_session_t *s)
{
    if (s->failed) {
        return 1;
    }

    return (s->goaway_sent || s->goaway_recv) && s->nactive == 0
           && s->hb_kind == H2X_HB_NONE;
}


int
h2x_session_goaway(h2x_session_t *s, uint32_t code, int graceful)
{
    uint8_t  f[H2X_FRAME_PING_SIZE];

    if (s->failed || s->goaway_sent) {
        return H2X_OK;
    }

    if (graceful && s->cfg.goaway_one_step) {
        /* the streams up to the last accepted one still finish */
        s->goaway_code = code;
        h2x_goaway_final(s);
        return H2X_OK;
    }

    if (graceful) {
        if (s->goaway_step1) {
            return H2X_OK;
        }

        /* RFC 9113 6.8: announce, then the real last stream id */
        if (h2x_out_goaway(s, H2X_STREAM_ID_MASK, code, NULL) != H2X_OK) {
            return H2X_NOMEM;
        }

        h2x_frame_write_ping(f, (const uint8_t *) H2X_GOAWAY_PING, 0);
        (void) h2x_out_frame(s, f, sizeof(f), 0);

        /*
         * The deadline counts from the next clock reading (feed or
         * tick): s->now may be old when the connection was quiet.
         */
        s->goaway_step1 = 1;
        s->goaway_armed = 0;
        s->goaway_code = code;
        s->goaway_deadline = UINT64_MAX;

        return H2X_OK;
    }

    s->goaway_code = code;
    h2x_goaway_final(s);

    if (code != H2X_NO_ERROR) {
        s->failed = 1;
        h2x_close_all(s, code);
    }

    return H2X_OK;
}


const h2x_stats_t *
h2x_session_stats(h2x_session_t *s)
{
    return &s->stats;
}


size_t
h2x_session_streams(h2x_session_t *s)
{
    return s->nactive;
}


size_t
h2x_session_memory(h2x_session_t *s)
{
    return s->mem;
}


/* --- streams -------------------------------------------------------- */

uint32_t
h2x_stream_id(h2x_stream_t *st)
{
    return st->id;
}


void
h2x_stream_set_data(h2x_stream_t *st, void *data)
{
    st->data = data;
}


void *
h2x_stream_get_data(h2x_stream_t *st)
{
    return st->data;
}


int
h2x_stream_submit_response(h2x_session_t *s, h2x_stream_t *st,
    unsigned status, const h2x_header_t *h, size_t n, int end_stream)
{
    int            rc;
    char           buf[4];
    h2x_header_t  *c;

    if (st->released || st->final_sent || status < 100 || status > 599
        || status == 101 || (status < 200 && end_stream))
    {
        return H2X_ERROR;
    }

    if (st->state == H2X_ST_CLOSED || s->failed) {
        return H2X_DONE;
    }

    /* RFC 9113 8.2 */
    rc = h2x_response_fields(s, st, h, n, &c, &n);
    if (rc != H2X_OK) {
        return rc;
    }

    if (c) {
        h = c;
    }

    buf[0] = (char) ('0' + status / 100);
    buf[1] = (char) ('0' + status / 10 % 10);
    buf[2] = (char) ('0' + status % 10);
    buf[3] = '\0';

    /* the HEADERS and an END marker */
    if (h2x_out_entries(s, 2) != H2X_OK) {
        h2x_response_fields_free(s, c);
        return H2X_NOMEM;
    }

    rc = h2x_out_headers(s, st->id, buf, h, n, end_stream);

    h2x_response_fields_free(s, c);

    if (rc == H2X_NOMEM) {
        return H2X_NOMEM;
    }

    if (rc != H2X_OK) {
        (void) h2x_conn_error(s, H2X_INTERNAL_ERROR,
                              "response header encoding failed");
        return H2X_ERROR;
    }

    if (status < 200) {
        return H2X_OK;
    }

    st->final_sent = 1;

    if (end_stream) {
        st->end_queued = 1;
        /* the END marker: room was reserved above */
        s->out[s->out_count].kind = H2X_OUT_END;
        s->out[s->out_count].len = 0;
        s->out[s->out_count].off = 0;
        s->out[s->out_count].nctrl = 0;
        s->out[s->out_count].node = NULL;
        s->out[s->out_count].stream = st;
        s->out_count++;
        s->last_bytes_open = 0;
        st->refs++;
        st->end_sched = 1;
        return H2X_OK;
    }

    h2x_sched_update(s, st);

    return H2X_OK;
}


int
h2x_stream_write(h2x_session_t *s, h2x_stream_t *st, const h2x_chunk_t *chunk,
    int end_stream)
{
    h2x_cnode_t  *n;

    if (st->released || st->end_queued) {
        return H2X_ERROR;
    }

    if (st->state == H2X_ST_CLOSED || s->failed) {
        return H2X_DONE;
    }

    if (chunk->len == 0 && !end_stream) {
        return H2X_OK;
    }

    n = s->free_nodes;

    if (n) {
        s->free_nodes = n->next;

    } else {
        n = h2x_s_alloc(s, sizeof(h2x_cnode_t));
        if (n == NULL) {
            return H2X_NOMEM;
        }
    }

    n->chunk = *chunk;
    n->next = NULL;
    n->stream = st;
    n->sched = 0;
    n->inflight = 0;
    n->end_stream = end_stream ? 1 : 0;
    n->popped = 0;

    if (st->qtail) {
        st->qtail->next = n;
    } else {
        st->qhead = n;
    }

    st->qtail = n;
    st->unsched += chunk->len;
    st->queued += chunk->len;
    st->refs++;

    if (end_stream) {
        st->end_queued = 1;
    }

    h2x_sched_update(s, st);

    return H2X_OK;
}


/* A copy of fields in one allocation. */
static h2x_trailers_t *
h2x_headers_copy(h2x_session_t *s, const h2x_header_t *h, size_t n)
{
    size_t           i, size;
    uint8_t         *p;
    h2x_trailers_t  *t;

    size = sizeof(h2x_trailers_t) + n * sizeof(h2x_header_t);
    for (i = 0; i < n; i++) {
        size += h[i].name_len + h[i].value_len;
    }

    t = h2x_s_alloc(s, size);
    if (t == NULL) {
        return NULL;
    }

    t->h = (h2x_header_t *) (t + 1);
    t->n = n;
    t->size = size;
    p = (uint8_t *) (t->h + n);

    for (i = 0; i < n; i++) {
        t->h[i] = h[i];
        memcpy(p, h[i].name, h[i].name_len);
        t->h[i].name = p;
        p += h[i].name_len;
        memcpy(p, h[i].value, h[i].value_len);
        t->h[i].value = p;
        p += h[i].value_len;
    }

    return t;
}


int
h2x_stream_submit_trailers(h2x_session_t *s, h2x_stream_t *st,
    const h2x_header_t *h, size_t n)
{
    int              rc;
    h2x_header_t    *c;
    h2x_trailers_t  *t;
    h2x_chunk_t      none;

    if (st->released || st->end_queued || !st->final_sent) {
        return H2X_ERROR;
    }

    if (st->state == H2X_ST_CLOSED || s->failed) {
        return H2X_DONE;
    }

    if (n == 0) {
        memset(&none, 0, sizeof(h2x_chunk_t));
        return h2x_stream_write(s, st, &none, 1);
    }

    /* RFC 9113 8.1, 8.2: no pseudo-headers in trailers, the same rules */
    rc = h2x_response_fields(s, st, h, n, &c, &n);
    if (rc != H2X_OK) {
        return rc;
    }

    /* copied: encoded only when the body before them has gone out */
    t = h2x_headers_copy(s, c ? c : h, n);

    h2x_response_fields_free(s, c);

    if (t == NULL) {
        return H2X_NOMEM;
    }

    st->trailers = t;
    st->end_queued = 1;

    h2x_sched_update(s, st);

    return H2X_OK;
}


int
h2x_stream_reset(h2x_session_t *s, h2x_stream_t *st, uint32_t code)
{
    if (st->state == H2X_ST_CLOSED || s->failed) {
        return H2X_DONE;
    }

    h2x_stream_do_reset(s, st, code);
    h2x_check_nomem(s);

    return H2X_OK;
}


size_t
h2x_stream_queued(h2x_stream_t *st)
{
    return st->queued;
}


void
h2x_stream_set_chunk_size(h2x_stream_t *st, uint32_t size)
{
    st->chunk_size = size;
}


void
h2x_stream_consumed(h2x_session_t *s, h2x_stream_t *st, size_t n)
{
    if (n > st->unconsumed) {
        /* after a close the connection was credited already */
        n = st->unconsumed;
    }

    if (n == 0) {
        return;
    }

    st->unconsumed -= n;
    h2x_credit(s, st, n);
}


long
h2x_stream_read(h2x_session_t *s, h2x_stream_t *st, uint8_t *buf,
    size_t len, unsigned flags)
{
    size_t           avail, n, w;
    h2x_trailers_t  *t;

    if (st->state == H2X_ST_CLOSED && st->gone != H2X_GONE_NORMAL) {
        return H2X_ERROR;
    }

    avail = st->rbuf_end - st->rbuf_start;

    if (flags & H2X_READ_CHUNKED) {
        if (h2x_chunked_done(&st->rchunk)) {
            st->eof_read = 1;
            return 0;
        }

        t = st->recv_end ? st->rtrailers : NULL;
        n = avail;

        w = h2x_chunked_frame(&st->rchunk, buf, len,
                              avail ? st->rbuf + st->rbuf_start : NULL, &n,
                              st->recv_end, t ? t->h : NULL, t ? t->n : 0);

        /* taken from the buffer: credited as today, by the body bytes */
        if (n) {
            st->rbuf_start += n;
            if (st->rbuf_start == st->rbuf_end) {
                st->rbuf_start = 0;
                st->rbuf_end = 0;
            }
            h2x_credit(s, st, n);
        }

        if (w == 0 && len) {
            if (h2x_chunked_done(&st->rchunk)) {
                st->eof_read = 1;
                return 0;
            }
            return H2X_AGAIN;
        }

        return (long) w;
    }

    if (avail == 0) {
        if (!st->recv_end) {
            return H2X_AGAIN;
        }

        st->eof_read = 1;
        return 0;
    }

    n = avail < len ? avail : len;

    memcpy(buf, st->rbuf + st->rbuf_start, n);
    st->rbuf_start += n;

    if (st->rbuf_start == st->rbuf_end) {
        st->rbuf_start = 0;
        st->rbuf_end = 0;
    }

    h2x_credit(s, st, n);

    return (long) n;
}


void
h2x_stream_release(h2x_session_t *s, h2x_stream_t *st)
{
    if (st->released) {
        return;
    }

    st->released = 1;

    if (st->announced) {
        s->nactive--;
    }

    if (st->slot) {
        st->slot = 0;
        s->nslots--;
    }

    if (s->cur == st) {
        s->cur_skip = 1;
    }

    st->refs++;

    if (st->state != H2X_ST_CLOSED && !s->failed) {
        if (!st->end_queued) {
            /* the response was not complete */
            h2x_stream_do_reset(s, st, H2X_INTERNAL_ERROR);

        } else if (st->end_written && !st->recv_end) {
            /* RFC 9113 8.1: complete response, stop the body */
            h2x_stream_do_reset(s, st, H2X_NO_ERROR);
        }
        /* else the output finishes, then h2x_stream_end_written() */
    }

    h2x_stream_unref(s, st);
    h2x_check_nomem(s);
    h2x_trim(s);
}
