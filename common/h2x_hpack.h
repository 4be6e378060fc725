/*
 * h2x_hpack: HPACK (RFC 7541) decoder and encoder.
 *
 * Decoder: incremental.  A header block (HEADERS + CONTINUATION payloads)
 * is fed in fragments split at any byte boundary; every complete field
 * is written, without any allocation, into a caller-provided per-stream
 * output (h2x_hpack_out_t): an array of h2x_header_t whose strings live
 * in the caller's byte buffer (or, for names and values taken from the
 * static table, in constant storage).  The only carry-over between
 * fragments is the state of the representation being decoded (a partial
 * integer, Huffman bits, the count of string bytes still to come); the
 * bytes already decoded are in the output buffer.
 *
 * Encoder: fields from a caller array into a caller buffer with an
 * explicit bound; dynamic table sized from the peer's
 * SETTINGS_HEADER_TABLE_SIZE; Huffman only when shorter.
 *
 * All memory comes from the h2x_allocator_t given to _init: the decoder
 * allocates its dynamic table (and a scratch area of the same size), the
 * encoder its dynamic table and hash index.  Nothing is allocated per
 * block or per field.  One object is used by one thread at a time.
 */

#ifndef _H2X_HPACK_H_INCLUDED_
#define _H2X_HPACK_H_INCLUDED_


#include "h2x.h"


/* Defaults; every one can be changed in h2x_hpack_limits_t. */
#define H2X_HPACK_DEFAULT_TABLE_SIZE      4096   /* RFC 7541 / 9113 */
#define H2X_HPACK_DEFAULT_MAX_LIST_SIZE   32768  /* name + value + 32 */
#define H2X_HPACK_DEFAULT_MAX_FIELD_SIZE  8192   /* name + value */
#define H2X_HPACK_DEFAULT_MAX_FIELDS      100
#define H2X_HPACK_DEFAULT_HARD_LIST_SIZE  65536  /* 2 x the soft limit */
#define H2X_HPACK_DEFAULT_HARD_FIELDS     1000

/* Per-field overhead of RFC 7541 4.1 and RFC 9113 6.5.2. */
#define H2X_HPACK_ENTRY_OVERHEAD          32


/*
 * Results of h2x_hpack_decode() besides H2X_OK (block complete),
 * H2X_AGAIN (fragment consumed, more of the block to come) and
 * H2X_ERROR (decoding error: connection error COMPRESSION_ERROR; the
 * decoder is unusable afterwards).
 */

/*
 * A soft limit (list size, field size, field count, output room) was
 * exceeded.  Every byte given is still consumed and the dynamic table
 * kept in sync, at a cost bounded by the input, as long as the caller
 * feeds the rest of the block; no further field is written to the output.
 * The session answers the stream with 431 (or RST_STREAM) and keeps the
 * connection.  Returned by every call until the block ends, including
 * the final one.
 */
#define H2X_HPACK_TOO_LARGE       -20

/*
 * A hard cap was exceeded (hard_list_size decoded bytes, counting
 * indexed references and Huffman output, or hard_fields fields): the
 * session sends GOAWAY ENHANCE_YOUR_CALM.  The decoder stops working on
 * the block and is unusable afterwards.
 */
#define H2X_HPACK_CALM            -21


/* Field flags (h2x_header_t.flags). */

/* Decoder output: the field was a "never indexed" literal (RFC 7541
 * 6.2.3).  Encoder input: emit it as never indexed, whatever the policy.
 * A proxy that forwards the field must keep the flag. */
#define H2X_HEADER_NEVER_INDEX    0x0001

/* Decoder output: a literal without indexing.  Encoder input: do not add
 * the field to the dynamic table (an existing exact match is used). */
#define H2X_HEADER_NO_INDEX       0x0002

/* Encoder input: add the field to the dynamic table even where the policy
 * would not (values that repeat although their name suggests they do
 * not).  Ignored for never-indexed fields. */
#define H2X_HEADER_INDEX          0x0004

/* Decoder output: the name is a static-table name (so it is valid and
 * lowercase); H2X_HEADER_STATIC_INDEX(flags) is the lowest static index
 * with that name (1 ":authority" .. 61 "www-authenticate"), so sessions
 * can switch on it instead of comparing strings.  Set when the name was
 * given by static index, directly or through a dynamic entry that got it
 * so; not when it came as a literal, even one equal to a static name. */
#define H2X_HEADER_STATIC_NAME    0x0008
#define H2X_HEADER_STATIC_INDEX(flags)  (((flags) >> 8) & 0xff)


/*
 * One field.  Encoder input: name and value need not be NUL-terminated;
 * names must already be lowercase (HTTP/2 requires it; the encoder does
 * not check).  Decoder output: name and value are NUL-terminated
 * (name[name_len] == '\0', value[value_len] == '\0'), but may contain
 * other NULs, which the session must reject in values per RFC 9113 8.2.1.
 */
typedef struct {
    const uint8_t             *name;
    size_t                     name_len;
    const uint8_t             *value;
    size_t                     value_len;
    unsigned                   flags;
} h2x_header_t;


/*
 * Where the decoder writes fields: the caller owns both arrays (typically
 * one per stream) and sets them with h2x_hpack_out_init() before a block.
 * The decoder appends: fields[nfields++], strings at buf + len.
 *
 * Lifetimes: a field's name and value point into buf or into constant
 * storage of the engine; they stay valid as long as the caller keeps buf
 * and does not reset the output, whatever the decoder does afterwards
 * (later blocks, table evictions, h2x_hpack_dec_free()).
 *
 * Fields appear as soon as their representation is complete: after each
 * h2x_hpack_decode() call, fields[n_before .. nfields) are new, so a
 * session can validate them as they come and hand the whole array over
 * at END_HEADERS.
 *
 * Room: the buffer needs name_len + value_len + 2 bytes per field (the
 * strings and their NULs), so buf of max_list_size bytes and max_fields
 * entries can hold any list within the soft limits.  Running out of
 * either is treated as exceeding a soft limit (H2X_HPACK_TOO_LARGE).
 */
typedef struct {
    h2x_header_t              *fields;
    size_t                     nfields;
    size_t                     max_fields;
    uint8_t                   *buf;
    size_t                     len;
    size_t                     size;
} h2x_hpack_out_t;


static inline void
h2x_hpack_out_init(h2x_hpack_out_t *out, h2x_header_t *fields,
    size_t max_fields, uint8_t *buf, size_t size)
{
    out->fields = fields;
    out->nfields = 0;
    out->max_fields = max_fields;
    out->buf = buf;
    out->len = 0;
    out->size = size;
}


/* Decoder limits; h2x_hpack_limits_init() sets the defaults above. */
typedef struct {
    /* our SETTINGS_HEADER_TABLE_SIZE: size updates above it are errors */
    uint32_t                   max_table_size;
    /* soft limits, per header block: H2X_HPACK_TOO_LARGE */
    size_t                     max_list_size;   /* sum of name+value+32 */
    size_t                     max_field_size;  /* name + value */
    size_t                     max_fields;
    /* hard caps, per header block: H2X_HPACK_CALM */
    size_t                     hard_list_size;
    size_t                     hard_fields;
} h2x_hpack_limits_t;


void h2x_hpack_limits_init(h2x_hpack_limits_t *limits);


/* ---- decoder ----------------------------------------------------------- */

/* A dynamic table entry of the decoder (private). */
typedef struct {
    uint32_t                   off;     /* of the name in the byte ring */
    uint32_t                   name_len;
    uint32_t                   value_len;
    uint32_t                   sidx;    /* static index of the name, or 0 */
} h2x_hpack_dent_t;


/* The decoder.  Fields are private; embed it anywhere. */
typedef struct {
    const h2x_allocator_t     *alloc;
    h2x_hpack_limits_t         limits;

    /* dynamic table: entries newest at ents[(head - 1) & ent_mask] */
    h2x_hpack_dent_t          *ents;
    uint32_t                   ent_mask;
    uint32_t                   head;      /* next entry slot */
    uint32_t                   count;     /* entries */
    uint8_t                   *ring;      /* bytes, capacity ring_size */
    uint32_t                   ring_size; /* limits.max_table_size at init */
    uint32_t                   ring_head; /* next free byte */
    uint32_t                   ring_used;
    uint32_t                   size;      /* RFC size of the entries */
    uint32_t                   max_size;  /* current maximum (updates) */

    uint8_t                   *scratch;   /* strings of a discarded field */

    /* block state */
    uint8_t                    in_block;
    uint8_t                    field_start;  /* no field yet: updates ok */
    uint8_t                    too_large;
    uint8_t                    failed;
    int                        fail_rc;
    size_t                     list_size;
    size_t                     nfields;

    /* representation state (carried over between fragments) */
    unsigned                   state;
    unsigned                   rep;        /* kind of representation */
    uint32_t                   ival;       /* integer being decoded */
    unsigned                   ishift;
    uint32_t                   slen;       /* string bytes still to read */
    uint8_t                    huff;
    uint8_t                    discard;    /* field is not output */
    uint8_t                    nostore;    /* field bytes are not kept */
    unsigned                   hnbits;
    uint64_t                   hbits;      /* Huffman bits, left-justified */
    uint8_t                   *dst;        /* the field's strings */
    size_t                     dst_len;
    size_t                     dst_room;
    size_t                     name_len;
    size_t                     value_len;
    const uint8_t             *sname;      /* name from the static table */
    uint32_t                   sname_idx;
} h2x_hpack_dec_t;


/*
 * limits may be NULL for the defaults.  Allocates the dynamic table
 * (limits->max_table_size bytes plus bookkeeping) and a scratch area of
 * the same size; returns H2X_OK, H2X_NOMEM with nothing allocated, or
 * H2X_ERROR for a max_table_size above 2^30.
 */
int h2x_hpack_dec_init(h2x_hpack_dec_t *dec, const h2x_allocator_t *alloc,
    const h2x_hpack_limits_t *limits);

void h2x_hpack_dec_free(h2x_hpack_dec_t *dec);

/*
 * Decode one fragment of a header block.  end != 0 when the fragment is
 * the last of the block (END_HEADERS); in may be NULL when len is 0.
 * The first call after a finished block starts a new block (then, and
 * only before the first field, dynamic table size updates are allowed).
 *
 * Returns H2X_AGAIN (end == 0: all consumed, more of the block to come),
 * H2X_OK (end != 0: block complete, every field in out), or one of
 * H2X_HPACK_TOO_LARGE, H2X_HPACK_CALM, H2X_ERROR (see above).  A block
 * ending inside a representation is H2X_ERROR.
 */
int h2x_hpack_decode(h2x_hpack_dec_t *dec, const uint8_t *in, size_t len,
    int end, h2x_hpack_out_t *out);

/*
 * Our advertised SETTINGS_HEADER_TABLE_SIZE changed (call when the peer
 * acknowledged it).  It cannot exceed limits.max_table_size given to
 * _init; a smaller value evicts at once.  Returns H2X_OK or H2X_ERROR.
 */
int h2x_hpack_dec_set_max_table_size(h2x_hpack_dec_t *dec, uint32_t size);


/* ---- encoder ----------------------------------------------------------- */

/* Encoder modes (h2x_hpack_enc_t.mode), mostly for tests. */
#define H2X_HPACK_ENC_INDEX_ALL   0x01  /* index every non-sensitive field */
#define H2X_HPACK_ENC_NO_HUFFMAN  0x02  /* never Huffman-encode */
/* sensitive names (set-cookie, authorization, short cookies) go as
 * literals without indexing, not never indexed: out of the table either
 * way; fields the caller flags H2X_HEADER_NEVER_INDEX stay never indexed */
#define H2X_HPACK_ENC_NO_NEVER    0x04


/* A dynamic table entry of the encoder (private). */
typedef struct {
    uint32_t                   off;
    uint32_t                   name_len;
    uint32_t                   value_len;
    uint32_t                   name_hash;
    uint32_t                   hash;       /* of name and value */
    uint32_t                   next_name;  /* older id, same name bucket */
    uint32_t                   next;       /* older id, same field bucket */
    uint16_t                   sidx;       /* static index of the name */
    uint8_t                    slot;       /* of the adaptive policy */
    uint8_t                    used;       /* matched since inserted */
} h2x_hpack_eent_t;


/* The encoder.  Fields are private except mode; embed it anywhere. */
typedef struct {
    const h2x_allocator_t     *alloc;
    unsigned                   mode;

    h2x_hpack_eent_t          *ents;      /* slot = id & ent_mask */
    uint32_t                   ent_mask;
    uint32_t                   next_id;   /* id of the next entry, from 1 */
    uint32_t                   oldest_id; /* oldest live id */
    uint32_t                  *name_buckets;  /* newest id per bucket */
    uint32_t                  *buckets;
    uint32_t                   bucket_mask;
    uint8_t                   *ring;
    uint32_t                   ring_size;
    uint32_t                   ring_head;
    uint32_t                   ring_used;
    uint32_t                   size;      /* RFC size of the entries */
    uint32_t                   max_size;  /* current maximum */
    uint32_t                   cap;       /* our cap, from _init */

    /* adaptive policy: per name (static index, or a hash of other
     * names), entries lately evicted without ever being matched */
    uint8_t                    unused[128];
    uint8_t                    probe[128];

    /* size updates to emit at the start of the next block */
    unsigned                   update_pending:1;
    uint32_t                   update_min;
    uint32_t                   update_final;
} h2x_hpack_enc_t;


/*
 * cap: the largest dynamic table we keep whatever the peer allows, 0 for
 * H2X_HPACK_DEFAULT_TABLE_SIZE.  The table in use is
 * min(peer SETTINGS_HEADER_TABLE_SIZE, cap), 4096 capped until the peer
 * says otherwise.  Returns H2X_OK or H2X_NOMEM with nothing allocated.
 */
int h2x_hpack_enc_init(h2x_hpack_enc_t *enc, const h2x_allocator_t *alloc,
    uint32_t cap);

void h2x_hpack_enc_free(h2x_hpack_enc_t *enc);

/* The peer's SETTINGS_HEADER_TABLE_SIZE (when its SETTINGS arrive).  The
 * size update(s) are emitted at the start of the next block. */
void h2x_hpack_enc_set_peer_table_size(h2x_hpack_enc_t *enc, uint32_t size);

/* The largest number of bytes h2x_hpack_encode() can write for this list:
 * the sum of name_len + value_len + H2X_HPACK_FIELD_BOUND per field, plus
 * 12 while table size updates are pending (SIZE_MAX for lengths beyond
 * 2^40).  Cheap: one addition per field. */
#define H2X_HPACK_FIELD_BOUND  23

size_t h2x_hpack_enc_bound(const h2x_hpack_enc_t *enc, const h2x_header_t *h,
    size_t n);

/*
 * Encode a whole header block into buf[0 .. size).  Returns H2X_OK with
 * *written set, or H2X_AGAIN, with nothing written and the encoder
 * unchanged, when size < h2x_hpack_enc_bound() of the list.  Never
 * writes past buf + size.
 *
 * Policy: exact matches become indexed fields; "authorization",
 * "proxy-authorization", "set-cookie" and cookies shorter than 20 bytes
 * are never indexed, as is any field flagged H2X_HEADER_NEVER_INDEX;
 * values that rarely repeat (":path", "content-length", "etag",
 * "location", "age", "if-none-match", ...) and fields larger than 3/4 of
 * the table are literals without indexing; the rest is indexed, except
 * that a name whose last 4 entries all left the table unused (a request
 * id, say) is no longer indexed, bar one field in 16 as a probe.
 */
int h2x_hpack_encode(h2x_hpack_enc_t *enc, const h2x_header_t *h, size_t n,
    uint8_t *buf, size_t size, size_t *written);


/* ---- primitives, exported for tests and the frame/session layers ------ */

/* Huffman-encoded length of s (in bytes, padding included). */
size_t h2x_huff_encoded_len(const uint8_t *s, size_t len);

/* Huffman-encode s into dst (h2x_huff_encoded_len() bytes). Returns the
 * number of bytes written. */
size_t h2x_huff_encode(uint8_t *dst, const uint8_t *s, size_t len);

/* Huffman-decode a whole string into dst (room bytes).  Returns the
 * decoded length, or -1 on invalid input (EOS, bad padding) or when the
 * output exceeds room. */
ptrdiff_t h2x_huff_decode(uint8_t *dst, size_t room, const uint8_t *s,
    size_t len);

/* RFC 7541 5.1 integer with an N-bit prefix (1..8) after the bits in
 * first.  Encode returns the octets written (at most 6); decode returns
 * the octets read, 0 when in ends first, -1 on overflow (above 2^32-1 or
 * more than 5 continuation octets). */
size_t h2x_hpack_encode_int(uint8_t *dst, uint32_t v, unsigned prefix,
    unsigned first);
int h2x_hpack_decode_int(const uint8_t *in, size_t len, unsigned prefix,
    uint32_t *v);

/* Dynamic table inspection (tests, debugging): size per RFC 7541 4.1,
 * entries, and entry i (0 the newest) copied into buf as name then
 * value.  Returns H2X_OK, or H2X_ERROR if i is out of range or the entry
 * does not fit. */
uint32_t h2x_hpack_dec_table_size(const h2x_hpack_dec_t *dec);
uint32_t h2x_hpack_dec_table_count(const h2x_hpack_dec_t *dec);
int h2x_hpack_dec_table_entry(const h2x_hpack_dec_t *dec, uint32_t i,
    uint8_t *buf, size_t size, size_t *name_len, size_t *value_len);
uint32_t h2x_hpack_enc_table_size(const h2x_hpack_enc_t *enc);
uint32_t h2x_hpack_enc_table_count(const h2x_hpack_enc_t *enc);
int h2x_hpack_enc_table_entry(const h2x_hpack_enc_t *enc, uint32_t i,
    uint8_t *buf, size_t size, size_t *name_len, size_t *value_len);


#endif /* _H2X_HPACK_H_INCLUDED_ */
