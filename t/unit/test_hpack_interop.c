/*
 * HPACK interoperability with Debian's libnghttp2 as the oracle: seeded
 * random header lists (random names and values, binary octets in values,
 * repeats so the dynamic table matters, table size changes on both
 * sides), encoded by h2x and decoded by nghttp2, and the reverse, must
 * give identical lists, never-indexed flags included.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <nghttp2/nghttp2.h>

#include "h2x_hpack.h"


#define MAX_FIELDS  64


static uint64_t  rng;

static uint32_t
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t) (rng >> 11);
}


typedef struct {
    uint8_t        name[64];
    size_t         name_len;
    uint8_t        value[6000];
    size_t         value_len;
    unsigned       never;
} field_t;


typedef struct {
    field_t        f[MAX_FIELDS];
    size_t         n;
} list_t;


static const char  *common_names[] = {
    ":status", ":method", ":path", ":authority", ":scheme", "server",
    "date", "content-type", "content-length", "cache-control", "etag",
    "last-modified", "set-cookie", "cookie", "authorization", "user-agent",
    "accept", "accept-encoding", "vary", "location", "x-request-id",
    "www-authenticate", "proxy-authorization", "age", "link",
};

/* values seen before, to make repeats */
static field_t  pool[256];
static size_t   pool_n;


static void
random_field(field_t *f)
{
    size_t    i, len;
    unsigned  kind;

    if (pool_n && rnd() % 3 == 0) {
        *f = pool[rnd() % pool_n];
        f->never = rnd() % 16 == 0;
        return;
    }

    if (rnd() % 2) {
        const char  *n = common_names[rnd() % (sizeof(common_names)
                                               / sizeof(common_names[0]))];
        f->name_len = strlen(n);
        memcpy(f->name, n, f->name_len);
    } else {
        f->name_len = 1 + rnd() % 30;
        for (i = 0; i < f->name_len; i++) {
            f->name[i] = (uint8_t) ("abcdefghijklmnopqrstuvwxyz-0123"
                                    [rnd() % 31]);
        }
    }

    kind = rnd() % 10;
    len = kind == 0 ? rnd() % 5000 : kind < 3 ? 0 : rnd() % 80;
    if (kind == 1) {
        len = 0;
    }
    for (i = 0; i < len; i++) {
        switch (rnd() % 4) {
        case 0:
            f->value[i] = (uint8_t) rnd();      /* any octet */
            break;
        default:
            f->value[i] = (uint8_t) (' ' + rnd() % 95);
        }
    }
    f->value_len = len;
    f->never = rnd() % 16 == 0;

    pool[pool_n < 256 ? pool_n++ : rnd() % 256] = *f;
}


static void
random_list(list_t *l)
{
    size_t  i;

    l->n = rnd() % 20;
    if (rnd() % 10 == 0) {
        l->n = rnd() % MAX_FIELDS;
    }
    for (i = 0; i < l->n; i++) {
        random_field(&l->f[i]);
    }
}


static void
compare_field(const field_t *f, const uint8_t *name, size_t name_len,
    const uint8_t *value, size_t value_len)
{
    assert_int_equal(name_len, f->name_len);
    assert_memory_equal(name, f->name, name_len);
    assert_int_equal(value_len, f->value_len);
    assert_memory_equal(value, f->value, value_len);
}


/* Inflate a piece of a block with nghttp2 the way a server does: one
 * field at a time; n counts the fields so far.  Returns 1 at the end of
 * the block. */
static int
nghttp2_inflate_piece(nghttp2_hd_inflater *inf, const uint8_t *in,
    size_t len, int final, const list_t *expect, size_t *n)
{
    nghttp2_nv  nv;
    ssize_t     rv;
    int         fl;

    for ( ;; ) {
        fl = 0;
        rv = nghttp2_hd_inflate_hd2(inf, &nv, &fl, in, len, final);
        assert_true(rv >= 0);
        in += rv;
        len -= (size_t) rv;
        if (fl & NGHTTP2_HD_INFLATE_EMIT) {
            assert_true(*n < expect->n);
            compare_field(&expect->f[*n], nv.name, nv.namelen, nv.value,
                          nv.valuelen);
            if (expect->f[*n].never) {
                assert_true(nv.flags & NGHTTP2_NV_FLAG_NO_INDEX);
            }
            (*n)++;
        }
        if (fl & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(inf);
            return 1;
        }
        if (!(fl & NGHTTP2_HD_INFLATE_EMIT) && len == 0) {
            return 0;
        }
    }
}


static size_t
nghttp2_inflate_block(nghttp2_hd_inflater *inf, const uint8_t *in,
    size_t len, size_t split, const list_t *expect)
{
    size_t  n;

    n = 0;
    assert_int_equal(nghttp2_inflate_piece(inf, in, split, 0, expect, &n), 0);
    assert_int_equal(nghttp2_inflate_piece(inf, in + split, len - split, 1,
                                           expect, &n), 1);
    return n;
}


static void
run_h2x_to_nghttp2(uint64_t seed, int rounds)
{
    static uint8_t       buf[1 << 19];
    static list_t        l;
    h2x_header_t         h[MAX_FIELDS];
    h2x_hpack_enc_t      enc;
    nghttp2_hd_inflater *inf;
    size_t               i, w, split;
    int                  r;
    uint32_t             ts;

    rng = seed;
    pool_n = 0;

    assert_int_equal(h2x_hpack_enc_init(&enc, h2x_allocator_default(), 8192),
                     H2X_OK);
    assert_int_equal(nghttp2_hd_inflate_new(&inf), 0);

    for (r = 0; r < rounds; r++) {
        if (rnd() % 40 == 0) {
            /* the peer (nghttp2) changes its SETTINGS_HEADER_TABLE_SIZE */
            ts = rnd() % 3 == 0 ? 0 : rnd() % 10000;
            assert_int_equal(nghttp2_hd_inflate_change_table_size(inf, ts),
                             0);
            h2x_hpack_enc_set_peer_table_size(&enc, ts);
            if (rnd() % 2) {
                ts = rnd() % 10000;
                assert_int_equal(nghttp2_hd_inflate_change_table_size(inf,
                                                                      ts), 0);
                h2x_hpack_enc_set_peer_table_size(&enc, ts);
            }
        }

        random_list(&l);
        for (i = 0; i < l.n; i++) {
            h[i].name = l.f[i].name;
            h[i].name_len = l.f[i].name_len;
            h[i].value = l.f[i].value;
            h[i].value_len = l.f[i].value_len;
            h[i].flags = l.f[i].never ? H2X_HEADER_NEVER_INDEX : 0;
        }
        enc.mode = r % 7 == 3 ? H2X_HPACK_ENC_INDEX_ALL : 0;

        assert_int_equal(h2x_hpack_encode(&enc, h, l.n, buf, sizeof(buf), &w),
                         H2X_OK);
        split = w ? rnd() % (w + 1) : 0;
        assert_int_equal(nghttp2_inflate_block(inf, buf, w, split, &l), l.n);
    }

    nghttp2_hd_inflate_del(inf);
    h2x_hpack_enc_free(&enc);
}


static void
run_nghttp2_to_h2x(uint64_t seed, int rounds)
{
    static uint8_t       buf[1 << 19], outb[1 << 19];
    static list_t        l;
    nghttp2_nv           nv[MAX_FIELDS];
    h2x_header_t         fields[MAX_FIELDS];
    h2x_hpack_limits_t   lim;
    h2x_hpack_dec_t      dec;
    h2x_hpack_out_t      out;
    nghttp2_hd_deflater *def;
    size_t               i, k, split;
    ssize_t              w;
    int                  r, rc;
    uint32_t             ts;

    rng = seed;
    pool_n = 0;

    h2x_hpack_limits_init(&lim);
    lim.max_table_size = 16384;
    lim.max_list_size = lim.hard_list_size = sizeof(outb);
    lim.max_field_size = sizeof(outb);

    assert_int_equal(h2x_hpack_dec_init(&dec, h2x_allocator_default(), &lim),
                     H2X_OK);
    assert_int_equal(nghttp2_hd_deflate_new(&def, 16384), 0);

    for (r = 0; r < rounds; r++) {
        if (rnd() % 40 == 0) {
            /* we change our SETTINGS_HEADER_TABLE_SIZE (within 16384) */
            ts = rnd() % 3 == 0 ? 0 : rnd() % 16385;
            assert_int_equal(nghttp2_hd_deflate_change_table_size(def, ts), 0);
            if (rnd() % 2) {
                ts = rnd() % 16385;
                assert_int_equal(nghttp2_hd_deflate_change_table_size(def, ts),
                                 0);
            }
        }

        random_list(&l);
        for (i = 0; i < l.n; i++) {
            nv[i].name = l.f[i].name;
            nv[i].namelen = l.f[i].name_len;
            nv[i].value = l.f[i].value;
            nv[i].valuelen = l.f[i].value_len;
            nv[i].flags = l.f[i].never ? NGHTTP2_NV_FLAG_NO_INDEX
                                       : NGHTTP2_NV_FLAG_NONE;
        }

        w = nghttp2_hd_deflate_hd(def, buf, sizeof(buf), nv, l.n);
        assert_true(w >= 0);

        h2x_hpack_out_init(&out, fields, MAX_FIELDS, outb, sizeof(outb));
        if (r % 5 == 0) {
            /* byte by byte */
            rc = (size_t) w ? H2X_AGAIN : h2x_hpack_decode(&dec, buf, 0, 1,
                                                           &out);
            for (k = 0; k < (size_t) w; k++) {
                rc = h2x_hpack_decode(&dec, buf + k, 1, k == (size_t) w - 1,
                                      &out);
            }
        } else {
            split = (size_t) rnd() % ((size_t) w + 1);
            rc = h2x_hpack_decode(&dec, buf, split, 0, &out);
            assert_int_equal(rc, H2X_AGAIN);
            rc = h2x_hpack_decode(&dec, buf + split, (size_t) w - split, 1,
                                  &out);
        }
        assert_int_equal(rc, H2X_OK);
        assert_int_equal(out.nfields, l.n);
        for (i = 0; i < l.n; i++) {
            compare_field(&l.f[i], out.fields[i].name, out.fields[i].name_len,
                          out.fields[i].value, out.fields[i].value_len);
            if (l.f[i].never) {
                assert_true(out.fields[i].flags & H2X_HEADER_NEVER_INDEX);
            }
        }
    }

    nghttp2_hd_deflate_del(def);
    h2x_hpack_dec_free(&dec);
}


static void
test_h2x_to_nghttp2(void **state)
{
    uint64_t  seed;

    (void) state;

    for (seed = 1; seed <= 6; seed++) {
        run_h2x_to_nghttp2(seed * 0x9e3779b97f4a7c15ull, 1000);
    }
}


static void
test_nghttp2_to_h2x(void **state)
{
    uint64_t  seed;

    (void) state;

    for (seed = 1; seed <= 6; seed++) {
        run_nghttp2_to_h2x(seed * 0x2545f4914f6cdd1dull, 1000);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_h2x_to_nghttp2),
        cmocka_unit_test(test_nghttp2_to_h2x),
    };

    return cmocka_run_group_tests_name("hpack_interop", tests, NULL, NULL);
}
