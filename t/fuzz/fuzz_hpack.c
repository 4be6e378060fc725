/*
 * libFuzzer target for the HPACK decoder and encoder (common/h2x_hpack.c).
 *
 * Input: byte 0 options (bit 0: small soft limits, bit 1: table size 256,
 * bit 2: feed the second fragment byte by byte, bit 3: encoder in
 * index-all mode), byte 1 a split point, then header block bytes.
 *
 * The bytes are decoded twice, as two blocks on the same decoder, each
 * block once whole (reference decoder) and once in fragments; results,
 * fields and table sizes must agree.  Whatever list decodes successfully
 * is re-encoded with a fresh h2x encoder and decoded by a fresh decoder:
 * the list must come back identical, never-indexed fields included.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2x_hpack.h"


#define MAX_FIELDS  4096
#define OUT_SIZE    (1 << 17)


static h2x_header_t  fa[MAX_FIELDS], fb[MAX_FIELDS], fc[MAX_FIELDS];
static uint8_t       ba[OUT_SIZE], bb[OUT_SIZE], bc[OUT_SIZE];
static uint8_t       enc_buf[1 << 20];


#define check(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_hpack.c:%d: check failed: %s\n",          \
                    __LINE__, #cond);                                        \
            abort();                                                         \
        }                                                                    \
    } while (0)


static void
same_lists(const h2x_hpack_out_t *a, const h2x_hpack_out_t *b, int flags)
{
    size_t  i;

    check(a->nfields == b->nfields);
    for (i = 0; i < a->nfields; i++) {
        check(a->fields[i].name_len == b->fields[i].name_len);
        check(memcmp(a->fields[i].name, b->fields[i].name,
                     a->fields[i].name_len) == 0);
        check(a->fields[i].value_len == b->fields[i].value_len);
        check(memcmp(a->fields[i].value, b->fields[i].value,
                     a->fields[i].value_len) == 0);
        check(a->fields[i].name[a->fields[i].name_len] == '\0');
        check(a->fields[i].value[a->fields[i].value_len] == '\0');
        if (flags) {
            check(a->fields[i].flags == b->fields[i].flags);
        } else if (a->fields[i].flags & H2X_HEADER_NEVER_INDEX) {
            check(b->fields[i].flags & H2X_HEADER_NEVER_INDEX);
        }
    }
}


static void
roundtrip(const h2x_hpack_out_t *a, unsigned opts)
{
    h2x_hpack_enc_t     enc;
    h2x_hpack_dec_t     dec;
    h2x_hpack_out_t     c;
    h2x_hpack_limits_t  lim;
    size_t              w, bound;

    h2x_hpack_limits_init(&lim);
    lim.max_list_size = lim.hard_list_size = OUT_SIZE;
    lim.max_field_size = OUT_SIZE;
    lim.max_fields = lim.hard_fields = MAX_FIELDS;

    check(h2x_hpack_enc_init(&enc, h2x_allocator_default(), 0) == H2X_OK);
    check(h2x_hpack_dec_init(&dec, h2x_allocator_default(), &lim) == H2X_OK);
    enc.mode = (opts & 8) ? H2X_HPACK_ENC_INDEX_ALL : 0;

    bound = h2x_hpack_enc_bound(&enc, a->fields, a->nfields);
    check(bound <= sizeof(enc_buf));
    check(h2x_hpack_encode(&enc, a->fields, a->nfields, enc_buf, bound, &w)
          == H2X_OK);
    check(w <= bound);

    h2x_hpack_out_init(&c, fc, MAX_FIELDS, bc, OUT_SIZE);
    check(h2x_hpack_decode(&dec, enc_buf, w, 1, &c) == H2X_OK);
    same_lists(a, &c, 0);
    check(h2x_hpack_enc_table_size(&enc) == h2x_hpack_dec_table_size(&dec));

    h2x_hpack_enc_free(&enc);
    h2x_hpack_dec_free(&dec);
}


static int
feed(h2x_hpack_dec_t *dec, const uint8_t *in, size_t len, size_t split,
    int bytes, h2x_hpack_out_t *out)
{
    size_t  i;
    int     rc;

    if (split > len) {
        split = len;
    }

    rc = h2x_hpack_decode(dec, in, split, 0, out);
    if (rc != H2X_AGAIN && rc != H2X_HPACK_TOO_LARGE) {
        return rc;
    }

    if (!bytes || split == len) {
        return h2x_hpack_decode(dec, in + split, len - split, 1, out);
    }

    for (i = split; i < len; i++) {
        rc = h2x_hpack_decode(dec, in + i, 1, i == len - 1, out);
        if (i < len - 1 && rc != H2X_AGAIN && rc != H2X_HPACK_TOO_LARGE) {
            return rc;
        }
    }

    return rc;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h2x_hpack_limits_t  lim;
    h2x_hpack_dec_t     ref, dec;
    h2x_hpack_out_t     a, b;
    unsigned            opts;
    size_t              split;
    int                 round, ra, rb;

    if (size < 2) {
        return 0;
    }

    opts = data[0];
    split = data[1];
    data += 2;
    size -= 2;

    h2x_hpack_limits_init(&lim);
    if (opts & 1) {
        lim.max_list_size = 200;
        lim.max_field_size = 64;
        lim.max_fields = 5;
        lim.hard_list_size = 1000;
        lim.hard_fields = 50;
    }
    if (opts & 2) {
        lim.max_table_size = 256;
    }

    check(h2x_hpack_dec_init(&ref, h2x_allocator_default(), &lim) == H2X_OK);
    check(h2x_hpack_dec_init(&dec, h2x_allocator_default(), &lim) == H2X_OK);

    for (round = 0; round < 2; round++) {
        h2x_hpack_out_init(&a, fa, MAX_FIELDS, ba, OUT_SIZE);
        h2x_hpack_out_init(&b, fb, MAX_FIELDS, bb, OUT_SIZE);

        ra = h2x_hpack_decode(&ref, data, size, 1, &a);
        rb = feed(&dec, data, size, split, opts & 4, &b);

        check(ra == rb);
        check(h2x_hpack_dec_table_size(&ref) == h2x_hpack_dec_table_size(&dec));
        check(h2x_hpack_dec_table_size(&ref) <= lim.max_table_size);
        check(a.len <= a.size);

        if (ra == H2X_OK || ra == H2X_HPACK_TOO_LARGE) {
            same_lists(&a, &b, 1);
        }
        if (ra == H2X_OK) {
            roundtrip(&a, opts);
        } else if (ra != H2X_HPACK_TOO_LARGE) {
            break;
        }
    }

    h2x_hpack_dec_free(&ref);
    h2x_hpack_dec_free(&dec);

    return 0;
}
