/*
 * h2x_hpack: HPACK (RFC 7541).  Stub: the API compiles, the
 * implementation follows.
 */

#include <string.h>

#include "h2x_hpack.h"


void
h2x_hpack_limits_init(h2x_hpack_limits_t *limits)
{
    limits->max_table_size = H2X_HPACK_DEFAULT_TABLE_SIZE;
    limits->max_list_size = H2X_HPACK_DEFAULT_MAX_LIST_SIZE;
    limits->max_field_size = H2X_HPACK_DEFAULT_MAX_FIELD_SIZE;
    limits->max_fields = H2X_HPACK_DEFAULT_MAX_FIELDS;
    limits->hard_list_size = H2X_HPACK_DEFAULT_HARD_LIST_SIZE;
    limits->hard_fields = H2X_HPACK_DEFAULT_HARD_FIELDS;
}


int
h2x_hpack_dec_init(h2x_hpack_dec_t *dec, const h2x_allocator_t *alloc,
    const h2x_hpack_limits_t *limits)
{
    memset(dec, 0, sizeof(*dec));
    dec->alloc = alloc;
    if (limits) {
        dec->limits = *limits;
    } else {
        h2x_hpack_limits_init(&dec->limits);
    }
    return H2X_OK;
}


void
h2x_hpack_dec_free(h2x_hpack_dec_t *dec)
{
    (void) dec;
}


int
h2x_hpack_decode(h2x_hpack_dec_t *dec, const uint8_t *in, size_t len,
    int end, h2x_hpack_out_t *out)
{
    (void) dec; (void) in; (void) len; (void) end; (void) out;
    return H2X_ERROR;
}


int
h2x_hpack_dec_set_max_table_size(h2x_hpack_dec_t *dec, uint32_t size)
{
    (void) dec; (void) size;
    return H2X_OK;
}


int
h2x_hpack_enc_init(h2x_hpack_enc_t *enc, const h2x_allocator_t *alloc,
    uint32_t cap)
{
    memset(enc, 0, sizeof(*enc));
    enc->alloc = alloc;
    enc->cap = cap;
    return H2X_OK;
}


void
h2x_hpack_enc_free(h2x_hpack_enc_t *enc)
{
    (void) enc;
}


void
h2x_hpack_enc_set_peer_table_size(h2x_hpack_enc_t *enc, uint32_t size)
{
    (void) enc; (void) size;
}


size_t
h2x_hpack_enc_bound(const h2x_hpack_enc_t *enc, const h2x_header_t *h,
    size_t n)
{
    (void) enc; (void) h; (void) n;
    return 0;
}


int
h2x_hpack_encode(h2x_hpack_enc_t *enc, const h2x_header_t *h, size_t n,
    uint8_t *buf, size_t size, size_t *written)
{
    (void) enc; (void) h; (void) n; (void) buf; (void) size;
    *written = 0;
    return H2X_ERROR;
}
