/*
 * h2x_out: the output of a session.  One ordered list of entries: engine
 * bytes (control frames, HEADERS blocks, DATA frame headers, coalesced in
 * one buffer) and slices of caller chunks (DATA payloads, never copied).
 * DATA frames are cut by the scheduler when the adapter asks for output,
 * at most a batch ahead of the socket, across the streams by RFC 9218
 * urgency, round robin within an urgency.
 */

#include <string.h>

#include "h2x_session_int.h"


#define H2X_OBUF_MIN              2048
#define H2X_OUT_MIN               16
#define H2X_OUT_FEW_FIELDS        16
#define H2X_OUT_HINT_MAX          1024  /* entries kept in mind */
#define H2X_OBUF_HINT_MAX         65536 /* engine bytes kept in mind */


static void h2x_out_advance(h2x_session_t *s, size_t n);


int
h2x_out_entries(h2x_session_t *s, size_t need)
{
    size_t      size;
    h2x_out_t  *out;

    if (s->out_count + need <= s->out_size) {
        return H2X_OK;
    }

    /* after a trim, start at the size the last burst grew to */
    size = s->out_size ? s->out_size * 2
                       : s->out_hint ? s->out_hint : H2X_OUT_MIN;
    while (size < s->out_count + need) {
        size *= 2;
    }

    out = h2x_s_alloc(s, size * sizeof(h2x_out_t));
    if (out == NULL) {
        return H2X_NOMEM;
    }

    if (s->out_count) {
        memcpy(out, s->out, s->out_count * sizeof(h2x_out_t));
    }

    h2x_s_free(s, s->out);
    s->out = out;
    s->out_size = size;

    return H2X_OK;
}


/* Room for n engine bytes at obuf + olen and for one more entry. */
uint8_t *
h2x_out_reserve(h2x_session_t *s, size_t n)
{
    size_t    size;
    uint8_t  *buf;

    if (h2x_out_entries(s, 1) != H2X_OK) {
        return NULL;
    }

    if (s->olen + n <= s->obuf_size) {
        return s->obuf + s->olen;
    }

    /* after a trim, start at the size the last burst grew to */
    size = s->obuf_size ? s->obuf_size * 2
                        : s->obuf_hint ? s->obuf_hint : H2X_OBUF_MIN;
    while (size < s->olen + n) {
        size *= 2;
    }

    buf = h2x_s_alloc(s, size);
    if (buf == NULL) {
        return NULL;
    }

    if (s->olen) {
        memcpy(buf, s->obuf, s->olen);
    }

    h2x_s_free(s, s->obuf);
    s->obuf = buf;
    s->obuf_size = size;

    return s->obuf + s->olen;
}


/* n bytes written at obuf + olen (after h2x_out_reserve()). */
void
h2x_out_commit(h2x_session_t *s, size_t n, uint32_t nctrl)
{
    h2x_out_t  *e;

    if (s->out_count > s->out_head && s->last_bytes_open) {
        e = &s->out[s->out_count - 1];
        e->len += n;
        e->nctrl += nctrl;

    } else {
        e = &s->out[s->out_count++];
        e->kind = H2X_OUT_BYTES;
        e->off = s->olen;
        e->len = n;
        e->nctrl = nctrl;
        e->node = NULL;
        e->stream = NULL;
        s->last_bytes_open = 1;
    }

    s->olen += n;
    s->unsent += n;
    s->ctrl_pending += nctrl;
}


int
h2x_out_frame(h2x_session_t *s, const uint8_t *frame, size_t n, int ctrl)
{
    uint8_t  *p;

    p = h2x_out_reserve(s, n);
    if (p == NULL) {
        /* a lost control frame: the connection fails after this call */
        s->nomem = 1;
        return H2X_NOMEM;
    }

    memcpy(p, frame, n);
    h2x_out_commit(s, n, ctrl ? 1 : 0);
    s->stats.frames_out[frame[3]]++;

    return H2X_OK;
}


int
h2x_out_rst(h2x_session_t *s, uint32_t sid, uint32_t code)
{
    uint8_t  f[H2X_FRAME_RST_STREAM_SIZE];

    h2x_frame_write_rst_stream(f, sid, code);
    s->stats.resets_out++;

    return h2x_out_frame(s, f, sizeof(f), 1);
}


int
h2x_out_window_update(h2x_session_t *s, uint32_t sid, uint32_t inc)
{
    uint8_t  f[H2X_FRAME_WINDOW_UPDATE_SIZE];

    h2x_frame_write_window_update(f, sid, inc);

    return h2x_out_frame(s, f, sizeof(f), 1);
}


int
h2x_out_goaway(h2x_session_t *s, uint32_t last_id, uint32_t code,
    const char *debug)
{
    size_t    dlen;
    uint8_t  *p;

    dlen = debug ? strlen(debug) : 0;

    p = h2x_out_reserve(s, H2X_FRAME_GOAWAY_SIZE(dlen));
    if (p == NULL) {
        s->nomem = 1;
        return H2X_NOMEM;
    }

    h2x_frame_write_goaway(p, last_id, code, (const uint8_t *) debug, dlen);
    h2x_out_commit(s, H2X_FRAME_GOAWAY_SIZE(dlen), 0);

    s->stats.frames_out[H2X_FRAME_GOAWAY]++;
    s->stats.goaways_out++;

    return H2X_OK;
}


/*
 * A header block (":status" first when status is given) as HEADERS and
 * CONTINUATION frames.  Encoded at once into the output, so that blocks
 * reach the peer in the order the encoder saw them (RFC 9113 4.3).
 */
int
h2x_out_headers(h2x_session_t *s, uint32_t sid, const char *status,
    const h2x_header_t *h, size_t n, int end_stream)
{
    size_t         bound, len, w1, w2, size;
    uint8_t       *p, *end;
    h2x_header_t   st, hh[H2X_OUT_FEW_FIELDS];

    if (!s->enc_ready) {
        /* the encoder comes with the first response (idle memory) */
        s->enc = h2x_s_alloc(s, sizeof(h2x_hpack_enc_t));
        if (s->enc == NULL) {
            return H2X_NOMEM;
        }
        if (h2x_hpack_enc_init(s->enc, &s->hpack_a, 0) != H2X_OK) {
            h2x_s_free(s, s->enc);
            s->enc = NULL;
            return H2X_NOMEM;
        }
        s->enc_ready = 1;
        if (!s->cfg.never_index_sensitive) {
            s->enc->mode |= H2X_HPACK_ENC_NO_NEVER;
        }
        if (s->enc_forgot) {
            /* freed while idle: the peer still has the old entries */
            h2x_hpack_enc_set_peer_table_size(s->enc, 0);
            h2x_hpack_enc_set_peer_table_size(s->enc,
                                              s->peer_table_set
                                              ? s->peer_table_size
                                              : H2X_HPACK_DEFAULT_TABLE_SIZE);
        } else if (s->peer_table_set) {
            h2x_hpack_enc_set_peer_table_size(s->enc, s->peer_table_size);
        }
    }

    w1 = 0;
    w2 = 0;

    if (status && n < H2X_OUT_FEW_FIELDS) {
        /* the usual case: one list, one pass of the encoder */
        hh[0].name = (const uint8_t *) ":status";
        hh[0].name_len = 7;
        hh[0].value = (const uint8_t *) status;
        hh[0].value_len = 3;
        hh[0].flags = 0;
        if (n) {
            memcpy(&hh[1], h, n * sizeof(h2x_header_t));
        }
        h = hh;
        n++;
        status = NULL;
    }

    bound = h2x_hpack_enc_bound(s->enc, h, n);

    if (status) {
        st.name = (const uint8_t *) ":status";
        st.name_len = 7;
        st.value = (const uint8_t *) status;
        st.value_len = 3;
        st.flags = 0;
        bound += h2x_hpack_enc_bound(s->enc, &st, 1);
    }

    size = h2x_frame_header_block_size(bound, s->peer_max_frame);

    p = h2x_out_reserve(s, size);
    if (p == NULL) {
        return H2X_NOMEM;
    }

    if (status) {
        if (h2x_hpack_encode(s->enc, &st, 1, p + H2X_FRAME_HEADER_SIZE,
                             bound, &w1)
            != H2X_OK)
        {
            return H2X_ERROR;
        }
    }

    if (n && h2x_hpack_encode(s->enc, h, n, p + H2X_FRAME_HEADER_SIZE + w1,
                              bound - w1, &w2)
             != H2X_OK)
    {
        /* the status went into the table state: the session must fail */
        return H2X_ERROR;
    }

    len = w1 + w2;

    end = h2x_frame_write_header_block(p, sid,
                                       end_stream ? H2X_FLAG_END_STREAM : 0,
                                       p + H2X_FRAME_HEADER_SIZE, len,
                                       s->peer_max_frame);

    h2x_out_commit(s, end - p, 0);

    s->stats.frames_out[H2X_FRAME_HEADERS]++;
    if (len > s->peer_max_frame) {
        s->stats.frames_out[H2X_FRAME_CONTINUATION] +=
                                       (len - 1) / s->peer_max_frame;
    }

    return H2X_OK;
}


/* --- scheduler ------------------------------------------------------ */


static int
h2x_sched_ready(h2x_session_t *s, h2x_stream_t *st)
{
    (void) s;

    if (st->state == H2X_ST_CLOSED || st->end_sched || !st->final_sent) {
        return 0;
    }

    if (st->unsched) {
        return st->send_window > 0;
    }

    return st->qhead != NULL || st->trailers != NULL;
}


void
h2x_sched_remove(h2x_session_t *s, h2x_stream_t *st)
{
    unsigned  u;

    if (!st->in_sched) {
        return;
    }

    u = st->urgency;

    if (st->snext == st) {
        s->sched[u] = NULL;
        s->sched_mask &= ~(1u << u);

    } else {
        st->sprev->snext = st->snext;
        st->snext->sprev = st->sprev;
        if (s->sched[u] == st) {
            s->sched[u] = st->snext;
        }
    }

    st->in_sched = 0;
    st->snext = NULL;
    st->sprev = NULL;
}


void
h2x_sched_update(h2x_session_t *s, h2x_stream_t *st)
{
    unsigned       u;
    h2x_stream_t  *head;

    if (!h2x_sched_ready(s, st)) {
        h2x_sched_remove(s, st);
        return;
    }

    if (st->in_sched) {
        return;
    }

    u = st->urgency;
    head = s->sched[u];

    if (head == NULL) {
        st->snext = st;
        st->sprev = st;
        s->sched[u] = st;
        s->sched_mask |= 1u << u;

    } else {
        /* at the tail */
        st->snext = head;
        st->sprev = head->sprev;
        head->sprev->snext = st;
        head->sprev = st;
    }

    st->in_sched = 1;
}


static void
h2x_push_end(h2x_session_t *s, h2x_stream_t *st)
{
    h2x_out_t  *e;

    e = &s->out[s->out_count++];
    e->kind = H2X_OUT_END;
    e->len = 0;
    e->off = 0;
    e->nctrl = 0;
    e->node = NULL;
    e->stream = st;
    st->refs++;
    st->end_sched = 1;
    s->last_bytes_open = 0;
}


/* One frame of st: DATA (or the trailers).  H2X_NOMEM stops the loop. */
static int
h2x_sched_frame(h2x_session_t *s, h2x_stream_t *st)
{
    int           end;
    size_t        len, left, take, nent;
    uint8_t      *p;
    h2x_out_t    *e;
    h2x_cnode_t  *n;

    if (st->unsched == 0 && st->qhead == NULL) {
        /* RFC 9113 8.1: trailers end the stream */
        if (h2x_out_entries(s, 2) != H2X_OK
            || h2x_out_headers(s, st->id, NULL, st->trailers->h,
                               st->trailers->n, 1)
               != H2X_OK)
        {
            return H2X_NOMEM;
        }

        h2x_s_free(s, st->trailers);
        st->trailers = NULL;
        h2x_push_end(s, st);

        return H2X_OK;
    }

    len = st->unsched;

    if (len) {
        if ((int64_t) len > st->send_window) {
            len = (size_t) st->send_window;
        }
        if ((int64_t) len > s->conn_send_window) {
            len = (size_t) s->conn_send_window;
        }
        if (len > s->peer_max_frame) {
            len = s->peer_max_frame;
        }
        if (st->chunk_size) {
            if (len > st->chunk_size) {
                len = st->chunk_size;
            }

        } else if (len > s->cfg.chunk_size) {
            len = s->cfg.chunk_size;
        }
    }

    end = (len == st->unsched && st->end_queued && st->trailers == NULL);

    /* entries: the header, one per chunk touched, the END marker */
    nent = 2;
    left = len;
    for (n = st->qhead; n; n = n->next) {
        take = n->chunk.len - n->sched;
        if (left == 0 && take != 0) {
            break;
        }
        nent++;
        left -= take < left ? take : left;
    }

    if (h2x_out_entries(s, nent) != H2X_OK) {
        return H2X_NOMEM;
    }

    p = h2x_out_reserve(s, H2X_FRAME_HEADER_SIZE);
    if (p == NULL) {
        return H2X_NOMEM;
    }

    h2x_frame_write_data(p, st->id, (uint32_t) len, end);
    h2x_out_commit(s, H2X_FRAME_HEADER_SIZE, 0);
    s->stats.frames_out[H2X_FRAME_DATA]++;

    left = len;

    while ((n = st->qhead) != NULL) {

        take = n->chunk.len - n->sched;

        if (left == 0 && take != 0) {
            break;
        }

        if (take > left) {
            take = left;
        }

        e = &s->out[s->out_count++];
        e->kind = H2X_OUT_CHUNK;
        e->node = n;
        e->off = n->sched;
        e->len = take;
        e->nctrl = 0;
        e->stream = NULL;

        n->sched += take;
        n->inflight += take;
        left -= take;

        if (n->sched != n->chunk.len) {
            break;
        }

        st->qhead = n->next;
        if (st->qhead == NULL) {
            st->qtail = NULL;
        }
        n->popped = 1;
    }

    s->last_bytes_open = 0;
    s->unsent += len;

    st->unsched -= len;
    st->send_window -= len;
    s->conn_send_window -= len;

    if (end) {
        h2x_push_end(s, st);
    }

    return H2X_OK;
}


/* Cut DATA frames until a batch is ahead of the socket. */
void
h2x_out_schedule(h2x_session_t *s)
{
    size_t         batch;
    unsigned       u;
    h2x_stream_t  *st;

    batch = s->cfg.max_unsent_output / 4;
    if (batch < s->cfg.chunk_size) {
        batch = s->cfg.chunk_size;
    }

    while (s->sched_mask && s->unsent < batch) {

        u = (unsigned) __builtin_ctz(s->sched_mask);
        st = s->sched[u];

        if (st->unsched && s->conn_send_window <= 0) {
            break;
        }

        if (h2x_sched_frame(s, st) != H2X_OK) {
            break;
        }

        if (h2x_sched_ready(s, st)) {
            /* RFC 9218 4.2: incremental streams take turns */
            if (st->incremental) {
                s->sched[u] = st->snext;
            }

        } else {
            h2x_sched_remove(s, st);
        }
    }
}


/* --- pending / sent ------------------------------------------------- */


static void
h2x_out_compact(h2x_session_t *s)
{
    size_t  i, base;

    if (s->out_head == 0) {
        return;
    }

    if (s->out_head == s->out_count) {
        s->out_head = 0;
        s->out_count = 0;
        s->out_head_off = 0;
        s->olen = 0;
        s->last_bytes_open = 0;
        return;
    }

    /* the engine bytes still needed start at the first BYTES entry */
    base = s->olen;
    for (i = s->out_head; i < s->out_count; i++) {
        if (s->out[i].kind == H2X_OUT_BYTES) {
            base = s->out[i].off;
            break;
        }
    }

    memmove(s->out, s->out + s->out_head,
            (s->out_count - s->out_head) * sizeof(h2x_out_t));
    s->out_count -= s->out_head;
    s->out_head = 0;

    if (base >= 4096 || base > s->olen / 2) {
        memmove(s->obuf, s->obuf + base, s->olen - base);
        s->olen -= base;
        for (i = 0; i < s->out_count; i++) {
            if (s->out[i].kind == H2X_OUT_BYTES) {
                s->out[i].off -= base;
            }
        }
    }
}


size_t
h2x_session_pending(h2x_session_t *s, h2x_segment_t *segs, size_t max)
{
    size_t          i, k, off;
    h2x_out_t      *e;
    h2x_segment_t  *g;

    /* markers and empty slices at the head complete now */
    h2x_out_advance(s, 0);
    h2x_out_compact(s);

    if (!s->failed) {
        h2x_out_schedule(s);
    }

    k = 0;
    off = s->out_head_off;

    for (i = s->out_head; i < s->out_count && k < max; i++) {

        e = &s->out[i];

        if (e->len == off) {
            off = 0;
            continue;
        }

        g = &segs[k++];
        g->len = e->len - off;

        if (e->kind == H2X_OUT_BYTES) {
            g->data = s->obuf + e->off + off;
            g->ref = NULL;
            g->offset = 0;

        } else {
            g->ref = e->node->chunk.ref;
            if (e->node->chunk.data) {
                g->data = e->node->chunk.data + e->off + off;
                g->offset = 0;
            } else {
                g->data = NULL;
                g->offset = e->node->chunk.offset + e->off + off;
            }
        }

        off = 0;
    }

    return k;
}


static void
h2x_out_done(h2x_session_t *s, h2x_out_t *e)
{
    h2x_cnode_t   *n;
    h2x_stream_t  *st;

    switch (e->kind) {

    case H2X_OUT_BYTES:
        s->ctrl_pending -= e->nctrl;
        break;

    case H2X_OUT_CHUNK:
        n = e->node;
        st = n->stream;
        n->inflight -= e->len;
        st->queued -= e->len;

        if (n->popped && n->inflight == 0 && n->sched == n->chunk.len) {
            if (s->cb.on_chunk_release) {
                s->cb.on_chunk_release(s, st, n->chunk.ref, s->user);
            }
            h2x_node_free(s, n);
            h2x_stream_unref(s, st);
        }
        break;

    default: /* H2X_OUT_END */
        st = e->stream;
        h2x_stream_end_written(s, st);
        h2x_stream_unref(s, st);
        break;
    }
}


static void
h2x_out_advance(h2x_session_t *s, size_t n)
{
    size_t      rem;
    h2x_out_t   e;

    while (s->out_head < s->out_count) {

        rem = s->out[s->out_head].len - s->out_head_off;

        if (rem > n) {
            s->out_head_off += n;
            s->unsent -= n;
            return;
        }

        n -= rem;
        s->unsent -= rem;

        /* callbacks may append entries (and move the array) */
        e = s->out[s->out_head];
        s->out_head++;
        s->out_head_off = 0;
        if (s->out_head == s->out_count) {
            s->last_bytes_open = 0;
        }

        h2x_out_done(s, &e);
    }
}


void
h2x_session_sent(h2x_session_t *s, size_t n)
{
    s->stats.bytes_out += n;

    h2x_out_advance(s, n);

    if (s->out_head == s->out_count) {
        s->out_head = 0;
        s->out_count = 0;
        s->out_head_off = 0;
        s->olen = 0;
        s->last_bytes_open = 0;

        /* nothing in flight, no stream: the buffers go */
        h2x_trim(s);
    }
}


int
h2x_session_want_write(h2x_session_t *s)
{
    if (s->out_head < s->out_count) {
        return 1;
    }

    /* streams in the scheduler have stream window; the connection's? */
    return s->sched_mask != 0 && !s->failed && s->conn_send_window > 0;
}


void
h2x_out_free(h2x_session_t *s)
{
    if (s->out_size) {
        s->out_hint = s->out_size < H2X_OUT_HINT_MAX ? s->out_size
                                                     : H2X_OUT_HINT_MAX;
    }

    if (s->obuf_size) {
        s->obuf_hint = s->obuf_size < H2X_OBUF_HINT_MAX ? s->obuf_size
                                                        : H2X_OBUF_HINT_MAX;
    }

    h2x_s_free(s, s->obuf);
    h2x_s_free(s, s->out);
    s->obuf = NULL;
    s->out = NULL;
    s->obuf_size = 0;
    s->out_size = 0;
}
