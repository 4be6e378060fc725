/*
 * libFuzzer target: the session API driven by random calls.  The input
 * is a program: each byte picks an operation of a well-behaved client
 * (requests, bodies, resets, window updates, SETTINGS, PINGs, priority
 * updates; frames built with the frame layer and the HPACK encoder) or
 * of the adapter (responses, 1xx, chunks from memory and files,
 * trailers, resets, releases, partial consumption, partial writes,
 * timers, GOAWAY), in any order.  The session must never crash, leak or
 * misbehave under ASan/UBSan, whatever the adapter does when.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "h2x_session.h"
#include "h2x_frame.h"
#include "h2x_hpack.h"
#include "fuzz_util.h"


#define MAX_LIVE    32
#define CBUF_SIZE   (32 * 1024)


typedef struct {
    const uint8_t    *p;
    size_t            left;

    h2x_session_t    *s;
    h2x_hpack_enc_t   enc;
    uint8_t          *cbuf;
    size_t            clen;
    uint32_t          next_sid;
    uint32_t          client_sids[MAX_LIVE];
    size_t            nclient;

    h2x_stream_t     *live[MAX_LIVE];
    size_t            nlive;
    fref_t            file;
    uint64_t          now;
    int               failed;
} fa_t;


static uint8_t
fa_byte(fa_t *f)
{
    if (f->left == 0) {
        return 0;
    }

    f->left--;

    return *f->p++;
}


static uint8_t *
fa_room(fa_t *f, size_t n)
{
    if (f->clen + n > CBUF_SIZE) {
        return NULL;
    }

    return f->cbuf + f->clen;
}


static int
fa_on_request(h2x_session_t *s, h2x_stream_t *st, const h2x_request_t *req,
    void *user)
{
    fa_t  *f = user;

    (void) s;
    (void) req;

    if (f->nlive < MAX_LIVE) {
        f->live[f->nlive++] = st;
        return H2X_OK;
    }

    /* no room to track it: refuse it (the engine resets it) */
    return H2X_ERROR;
}


static void
fa_on_close(h2x_session_t *s, h2x_stream_t *st, uint32_t code, void *user)
{
    size_t  i;
    fa_t   *f = user;

    (void) code;

    /* streams refused by on_request are released here */
    for (i = 0; i < f->nlive; i++) {
        if (f->live[i] == st) {
            return;
        }
    }

    h2x_stream_release(s, st);
}


static void
fa_request(fa_t *f)
{
    uint8_t        sel, *p;
    size_t         n, len;
    uint32_t       frag;
    uint8_t        block[512];
    h2x_header_t   h[6];
    static const char  *paths[] = { "/", "/a", "/b/c", "*" };
    static const char  *methods[] = { "GET", "POST", "OPTIONS", "CONNECT" };

    sel = fa_byte(f);

    h[0].name = (const uint8_t *) ":method";
    h[0].value = (const uint8_t *) methods[sel & 3];
    h[1].name = (const uint8_t *) ":scheme";
    h[1].value = (const uint8_t *) "https";
    h[2].name = (const uint8_t *) ":authority";
    h[2].value = (const uint8_t *) "example.com";
    h[3].name = (const uint8_t *) ":path";
    h[3].value = (const uint8_t *) paths[(sel >> 2) & 3];
    h[4].name = (const uint8_t *) "content-length";
    h[4].value = (const uint8_t *) "100";
    h[5].name = (const uint8_t *) "priority";
    h[5].value = (const uint8_t *) "u=2, i";

    n = (sel & 0x10) ? 6 : 4;

    for (len = 0; len < n; len++) {
        h[len].name_len = strlen((const char *) h[len].name);
        h[len].value_len = strlen((const char *) h[len].value);
        h[len].flags = 0;
    }

    if (h2x_hpack_encode(&f->enc, h, n, block, sizeof(block), &len)
        != H2X_OK)
    {
        return;
    }

    /* room for the frame headers of the fragment size written */
    frag = (sel & 0x40) ? 7 : 16384;

    p = fa_room(f, h2x_frame_header_block_size(len, frag));
    if (p == NULL) {
        return;
    }

    p = h2x_frame_write_header_block(p, f->next_sid,
                                     (sel & 0x20) ? H2X_FLAG_END_STREAM : 0,
                                     block, len, frag);
    f->clen = p - f->cbuf;

    if (f->nclient < MAX_LIVE) {
        f->client_sids[f->nclient++] = f->next_sid;
    }

    f->next_sid += 2;
}


static uint32_t
fa_client_sid(fa_t *f)
{
    if (f->nclient == 0) {
        return 1;
    }

    return f->client_sids[fa_byte(f) % f->nclient];
}


static h2x_stream_t *
fa_live(fa_t *f, size_t *idx)
{
    if (f->nlive == 0) {
        return NULL;
    }

    *idx = fa_byte(f) % f->nlive;

    return f->live[*idx];
}


static void
fa_flush(fa_t *f)
{
    size_t  off, n;

    off = 0;

    while (off < f->clen && !f->failed) {
        n = 1 + fa_byte(f) * 13;
        if (n > f->clen - off) {
            n = f->clen - off;
        }

        if (h2x_session_feed(f->s, f->cbuf + off, n, f->now) < 0) {
            f->failed = 1;
        }

        off += n;
    }

    f->clen = 0;
}


static void
fa_drain(fa_t *f, size_t limit)
{
    size_t         n;
    h2x_segment_t  seg[8];

    n = h2x_session_pending(f->s, seg, 8);
    h2x_session_sent(f->s, fuzz_write(seg, n, limit));
}


static void
fa_op(fa_t *f, uint8_t op)
{
    uint8_t        *p, b;
    size_t          i, n;
    h2x_stream_t   *st;
    h2x_chunk_t     c;
    h2x_header_t    h;
    h2x_setting_t   set[2];
    static const unsigned  statuses[] = { 200, 204, 100, 103, 404, 500,
                                          101, 99 };

    h.name = (const uint8_t *) "x-h";
    h.name_len = 3;
    h.value = (const uint8_t *) "v";
    h.value_len = 1;
    h.flags = 0;

    switch (op % 17) {

    case 0:
        fa_request(f);
        break;

    case 1:
        b = fa_byte(f);
        n = (size_t) b * 37;
        p = fa_room(f, 9 + n);
        if (p) {
            h2x_frame_write_data(p, fa_client_sid(f), (uint32_t) n, b & 1);
            memcpy(p + 9, body, n);
            f->clen += 9 + n;
        }
        break;

    case 2:
        p = fa_room(f, H2X_FRAME_RST_STREAM_SIZE);
        if (p) {
            h2x_frame_write_rst_stream(p, fa_client_sid(f), H2X_CANCEL);
            f->clen += H2X_FRAME_RST_STREAM_SIZE;
        }
        break;

    case 3:
        p = fa_room(f, H2X_FRAME_WINDOW_UPDATE_SIZE);
        if (p) {
            b = fa_byte(f);
            h2x_frame_write_window_update(p, (b & 1) ? fa_client_sid(f) : 0,
                                          1 + (uint32_t) b * 1000);
            f->clen += H2X_FRAME_WINDOW_UPDATE_SIZE;
        }
        break;

    case 4:
        p = fa_room(f, H2X_FRAME_SETTINGS_SIZE(2));
        if (p) {
            b = fa_byte(f);
            set[0].id = H2X_SETTINGS_INITIAL_WINDOW_SIZE;
            set[0].value = (uint32_t) b * 517;
            set[1].id = H2X_SETTINGS_MAX_FRAME_SIZE;
            set[1].value = 16384 + (uint32_t) fa_byte(f) * 100;
            h2x_frame_write_settings(p, set, 2);
            f->clen += H2X_FRAME_SETTINGS_SIZE(2);
        }
        break;

    case 5:
        b = fa_byte(f);
        if (b & 1) {
            p = fa_room(f, H2X_FRAME_PING_SIZE);
            if (p) {
                h2x_frame_write_ping(p, (const uint8_t *) "h2xgaway",
                                     b & 2);
                f->clen += H2X_FRAME_PING_SIZE;
            }
        } else {
            p = fa_room(f, H2X_FRAME_PRIORITY_UPDATE_SIZE(3));
            if (p) {
                h2x_frame_write_priority_update(p, fa_client_sid(f) + (b & 4),
                                                (const uint8_t *) "u=0", 3);
                f->clen += H2X_FRAME_PRIORITY_UPDATE_SIZE(3);
            }
        }
        break;

    case 6:
        fa_flush(f);
        break;

    case 7:
        st = fa_live(f, &i);
        if (st) {
            b = fa_byte(f);
            (void) h2x_stream_submit_response(f->s, st, statuses[b & 7], &h,
                                              1, (b >> 3) & 1);
        }
        break;

    case 8:
        st = fa_live(f, &i);
        if (st) {
            b = fa_byte(f);
            c.ref = &f->file;
            c.len = (size_t) fa_byte(f) * 250 + (b & 0x3);
            if (b & 4) {
                c.data = NULL;
                c.offset = b;
            } else {
                c.data = body + b;
                c.offset = 0;
            }
            (void) h2x_stream_write(f->s, st, &c, (b >> 3) & 1);
        }
        break;

    case 9:
        st = fa_live(f, &i);
        if (st) {
            (void) h2x_stream_submit_trailers(f->s, st, &h, fa_byte(f) & 1);
        }
        break;

    case 10:
        st = fa_live(f, &i);
        if (st) {
            (void) h2x_stream_reset(f->s, st, fa_byte(f) & 0xf);
        }
        break;

    case 11:
        st = fa_live(f, &i);
        if (st) {
            f->live[i] = f->live[--f->nlive];
            h2x_stream_release(f->s, st);
        }
        break;

    case 12:
        st = fa_live(f, &i);
        if (st) {
            h2x_stream_consumed(f->s, st, (size_t) fa_byte(f) * 300);
            (void) h2x_stream_queued(st);
        }
        break;

    case 13:
        fa_drain(f, 1 + (size_t) fa_byte(f) * 200);
        break;

    case 14:
        f->now += (uint64_t) fa_byte(f) * 100;
        if (h2x_session_next_timeout(f->s) <= f->now) {
            h2x_session_tick(f->s, f->now);
        }
        break;

    case 15:
        b = fa_byte(f);
        (void) h2x_session_goaway(f->s, (b & 2) ? H2X_NO_ERROR
                                                : H2X_INTERNAL_ERROR,
                                  b & 1);
        break;

    default:
        /* an adapter's idle moment: a no-op while streams are open */
        h2x_session_shrink(f->s);
        (void) h2x_session_want_read(f->s);
        (void) h2x_session_want_write(f->s);
        (void) h2x_session_want_close(f->s);
        (void) h2x_session_streams(f->s);
        (void) h2x_session_memory(f->s);
        break;
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fa_t             f;
    h2x_callbacks_t  cb;
    h2x_config_t     cfg;
    uint8_t          *p;
    int              rounds;

    if (size < 1) {
        return 0;
    }

    memset(&f, 0, sizeof(f));
    f.p = data;
    f.left = size;
    f.next_sid = 1;
    f.now = 1;
    f.file.base = body;

    h2x_config_init(&cfg);
    if (fa_byte(&f) & 1) {
        cfg.initial_window_size = 1000;
        cfg.max_concurrent_streams = 8;
        cfg.chunk_size = 3000;
        cfg.max_unsent_output = 10000;
    }

    memset(&cb, 0, sizeof(cb));
    cb.on_request = fa_on_request;
    cb.on_stream_close = fa_on_close;

    f.s = h2x_session_new(&cfg, &cb, &f, NULL);
    if (f.s == NULL) {
        return 0;
    }

    f.cbuf = (uint8_t *) h2x_allocator_default()->alloc(CBUF_SIZE, NULL);
    if (f.cbuf == NULL
        || h2x_hpack_enc_init(&f.enc, h2x_allocator_default(), 0) != H2X_OK)
    {
        h2x_session_free(f.s);
        h2x_allocator_default()->free(f.cbuf, NULL);
        return 0;
    }

    /* the client's preface and SETTINGS, and its ACK of ours */
    p = f.cbuf;
    memcpy(p, H2X_PREFACE, H2X_PREFACE_SIZE);
    p += H2X_PREFACE_SIZE;
    p = h2x_frame_write_settings(p, NULL, 0);
    p = h2x_frame_write_settings_ack(p);
    f.clen = p - f.cbuf;

    while (f.left && !f.failed) {
        fa_op(&f, fa_byte(&f));
    }

    fa_flush(&f);

    for (rounds = 0; rounds < 100 && h2x_session_want_write(f.s); rounds++) {
        fa_drain(&f, (size_t) -1);
    }

    while (f.nlive) {
        h2x_stream_release(f.s, f.live[--f.nlive]);
    }

    fa_drain(&f, (size_t) -1);

    h2x_session_free(f.s);
    h2x_hpack_enc_free(&f.enc);
    h2x_allocator_default()->free(f.cbuf, NULL);

    return 0;
}
