/*
 * h2x_session: one server-side HTTP/2 connection as a sans-I/O object.
 *
 * The adapter owns the socket, the event loop, TLS, the clock and the
 * memory of response bodies; the session owns the protocol state.  One
 * session is used by one thread at a time.
 *
 * The loop an adapter runs:
 *
 *     on readable:  n = read(...);  h2x_session_feed(s, buf, n, now);
 *     on writable
 *     or after any
 *     submit/feed:  cnt = h2x_session_pending(s, segs, N);
 *                   w = writev/sendfile/SSL_write(segs...);
 *                   h2x_session_sent(s, w);
 *     close when    h2x_session_want_close(s) and nothing is pending.
 *
 * Callbacks fire synchronously from h2x_session_feed() (and, for chunk
 * release, from h2x_session_sent() and the reset/release calls).  From a
 * callback the adapter may call any function of this API except
 * h2x_session_free() and h2x_session_feed().
 *
 * Streams: a request stream is announced by on_request and stays valid
 * until the adapter calls h2x_stream_release(), whatever the peer does.
 * A stream that ends in a reset occupies its concurrency slot until
 * then, so that a peer that provokes resets cannot make the adapter run
 * more than max_concurrent_streams requests at once (MadeYouReset,
 * CVE-2025-8671); a complete exchange gives its slot back when it
 * closes, as the peer counts it.
 */

#ifndef _H2X_SESSION_H_INCLUDED_
#define _H2X_SESSION_H_INCLUDED_


#include "h2x.h"
#include "h2x_hpack.h"


typedef struct h2x_session_s  h2x_session_t;
typedef struct h2x_stream_s   h2x_stream_t;


/* A string in engine memory: NUL-terminated, len excludes the NUL. */
typedef struct {
    const char                *data;
    size_t                     len;
} h2x_str_t;


/*
 * Configuration: our SETTINGS, limits and abuse budgets.  Fill it with
 * h2x_config_init() (which sets every default documented below), then
 * change what the host's directives say.  Times are in milliseconds.
 */
typedef struct {
    /* advertised in our SETTINGS */
    uint32_t    header_table_size;        /* 4096 */
    uint32_t    max_concurrent_streams;   /* 128 */
    uint32_t    initial_window_size;      /* 65536: stream receive window */
    uint32_t    max_frame_size;           /* 16384 */
    uint32_t    max_header_list_size;     /* 32768: decoded, RFC 9113 */
    unsigned    enable_connect_protocol;  /* 0: RFC 8441 off */

    uint32_t    connection_window_size;   /* 1 MiB: connection recv window */

    /* request headers */
    uint32_t    max_field_size;           /* 8192: one name + value */
    uint32_t    max_header_fields;        /* 100: fields incl. crumbs */
    uint32_t    max_continuations;        /* 8 per header block */
    /*
     * Choices RFC 9113 leaves to the server; each adapter sets them as
     * its host's builtin HTTP/2 behaves (docs/compat.md).  0 is strict.
     */
    unsigned    host_mismatch;            /* H2X_HOST_RESET */
    unsigned    value_ows;                /* H2X_OWS_RESET */
    /* 1: a request value with any other control byte (0x01-0x1f but
     * HTAB, 0x7f) is malformed too, as nghttp2 (mod_http2) has it */
    unsigned    value_no_ctl;             /* 0 */

    /* connection lifetime */
    uint32_t    max_requests;             /* 1000, then graceful GOAWAY */

    /* output */
    uint32_t    chunk_size;               /* 16384: max DATA payload */
    size_t      max_unsent_output;        /* 512 KiB: stop reading above */
    uint32_t    max_control_queue;        /* 1000 queued control frames */
    /*
     * A response, interim or trailer block larger than this (name +
     * value + 32 per field, RFC 9113 6.5.2) is refused with
     * H2X_TOO_LARGE; 0: no bound.  Smaller blocks of any size go out as
     * HEADERS + CONTINUATION.
     */
    uint32_t    max_response_header_size; /* 2 MiB */
    /* a response field h2x_response_field() finds invalid: */
    unsigned    bad_response_field;       /* H2X_BAD_FIELD_DROP */

    /* abuse budgets */
    uint32_t    max_settings_entries;     /* 32 per SETTINGS frame */
    uint32_t    max_new_streams_per_feed; /* 0: no cap; refused beyond */
    /*
     * Rapid reset: refused streams and streams the peer resets before
     * their response draw on this bucket; when it is empty, GOAWAY
     * ENHANCE_YOUR_CALM.  A new stream reaches on_request only while a
     * token is left: at most rst_burst (+ rst_rate per second) requests
     * of a HEADERS + RST_STREAM flood, whatever the read sizes.
     */
    uint32_t    rst_burst;                /* 1000 tokens ... */
    uint32_t    rst_rate;                 /* ... refilled at 33/s */
    uint32_t    glitch_burst;             /* 1000 glitches ... */
    uint32_t    glitch_rate;              /* ... refilled at 100/s */
    uint32_t    max_stream_errors;        /* 16 peer-caused stream errors
                                             per connection, then EYC */
    uint32_t    max_priority_updates;     /* 100 buffered for idle streams */
    uint32_t    settings_ack_timeout;     /* 10000 ms, then SETTINGS_TIMEOUT */
    uint32_t    goaway_ping_timeout;      /* 1000 ms: graceful GOAWAY step 2 */
    /*
     * A header block (HEADERS and its CONTINUATIONs) must be complete
     * this long after its HEADERS frame began, CONTINUATIONs do not
     * extend it; then GOAWAY ENHANCE_YOUR_CALM.  0: no deadline.
     */
    uint32_t    header_timeout;           /* 60000 ms */

    /*
     * RFC 9113 3.4 wants the client's SETTINGS right after the preface.
     * 1: accept other frames first (the client's settings stay at their
     * defaults until it sends some), as nginx's builtin does; 0: a
     * connection error PROTOCOL_ERROR, as nghttp2 (mod_http2) does.
     */
    unsigned    lenient_preface;          /* 0 */

    /*
     * Response fields that carry secrets (set-cookie, short cookies,
     * authorization) are kept out of the dynamic table either way; 1:
     * sent as "never indexed" literals (RFC 7541 6.2.3), so that proxies
     * keep them out of theirs; 0: as literals without indexing, as
     * nginx's builtin sends every field.
     */
    unsigned    never_index_sensitive;    /* 1 */

    /*
     * A stream depending on itself (RFC 9113 5.3.1): 0: a stream error
     * PROTOCOL_ERROR, as the RFC names; 1: a connection error (5.4 allows
     * it), as nginx's builtin answers.
     */
    unsigned    self_dependency_conn_error;  /* 0 */

    /*
     * A graceful GOAWAY (h2x_session_goaway(.., 1), max_requests, stream
     * ids running out): 0: two steps, 2^31-1 and a PING first, then the
     * last accepted stream (RFC 9113 6.8 SHOULD); 1: one GOAWAY with the
     * last accepted stream at once, as nginx's builtin.
     */
    unsigned    goaway_one_step;          /* 0 */
} h2x_config_t;


#define H2X_BAD_FIELD_DROP        0    /* leave it out, log, send the rest */
#define H2X_BAD_FIELD_REFUSE      1    /* refuse the block (H2X_ERROR) */

/*
 * host_mismatch: a request with both :authority and a "host" field that
 * differs from it (RFC 9113 8.3.1: SHOULD be malformed).
 *   H2X_HOST_RESET  stream error PROTOCOL_ERROR
 *   H2X_HOST_PASS   accepted: req->authority is :authority, the "host"
 *                   field stays among req->headers for the adapter
 */
#define H2X_HOST_RESET   0
#define H2X_HOST_PASS    1

/*
 * value_ows: a request or trailer field value that begins or ends with
 * SP or HTAB (RFC 9113 8.2.1).
 *   H2X_OWS_RESET   stream error PROTOCOL_ERROR
 *   H2X_OWS_STRIP   the whitespace is removed (mod_http2)
 *   H2X_OWS_KEEP    the value is passed as it came (nginx)
 * NUL, CR and LF in a value always make the request malformed.
 */
#define H2X_OWS_RESET    0
#define H2X_OWS_STRIP    1
#define H2X_OWS_KEEP     2


void h2x_config_init(h2x_config_t *cfg);


/* A request as announced by on_request: validated per RFC 9113 8.3. */
typedef struct {
    h2x_str_t                  method;
    h2x_str_t                  scheme;     /* empty for CONNECT */
    h2x_str_t                  authority;  /* :authority, else Host */
    h2x_str_t                  path;       /* empty for CONNECT */
    h2x_str_t                  protocol;   /* RFC 8441 :protocol or empty */

    /*
     * Regular fields in the order received, names lowercase, values
     * NUL-terminated; cookie crumbs are joined into one "cookie" field
     * with "; " (RFC 9113 8.2.3).  Valid during the callback only.
     */
    const h2x_header_t        *headers;
    size_t                     nheaders;

    int64_t                    content_length;  /* -1: none */
    unsigned                   end_stream:1;    /* no body follows */
} h2x_request_t;


/* A caller-owned body chunk: memory, or a range of an opaque file. */
typedef struct {
    void                      *ref;      /* handed back on release */
    const uint8_t             *data;     /* memory, or NULL for a file */
    uint64_t                   offset;   /* file range start */
    size_t                     len;
} h2x_chunk_t;


/*
 * One piece of pending output.  ref == NULL: engine bytes at data.
 * ref != NULL: a slice of that caller chunk, at data (memory) or at
 * file offset "offset" (data == NULL).
 */
typedef struct {
    const uint8_t             *data;
    void                      *ref;
    uint64_t                   offset;
    size_t                     len;
} h2x_segment_t;


/* Counters, for status pages; adapters add them up per worker. */
typedef struct {
    uint64_t    frames_in[11];          /* by type, DATA .. CONTINUATION */
    uint64_t    frames_in_other;        /* PRIORITY_UPDATE and unknown */
    uint64_t    frames_out[11];
    uint64_t    streams;                /* requests announced */
    uint64_t    streams_refused;        /* REFUSED_STREAM */
    uint64_t    resets_in;              /* RST_STREAM received */
    uint64_t    resets_out;             /* RST_STREAM sent */
    uint64_t    goaways_in;
    uint64_t    goaways_out;
    uint64_t    bytes_in;
    uint64_t    bytes_out;

    /* each abuse detection */
    uint64_t    rapid_reset;            /* reset budget ran out */
    uint64_t    stream_errors;          /* MadeYouReset budget tripped */
    uint64_t    continuation_flood;
    uint64_t    header_too_large;       /* 431 / reset */
    uint64_t    hpack_bomb;             /* EYC */
    uint64_t    settings_flood;
    uint64_t    ping_flood;
    uint64_t    priority_flood;
    uint64_t    window_update_flood;
    uint64_t    empty_frame_flood;
    uint64_t    unknown_frame_flood;
    uint64_t    control_queue_flood;
    uint64_t    stream_id_exhausted;
    uint64_t    header_timeout;         /* header block too slow */

    /* ours, not the peer's: response fields h2x_response_field() left
     * out as invalid (the adapter may log them) */
    uint64_t    response_fields_dropped;
} h2x_stats_t;


/* Flags of on_data. */
#define H2X_DATA_END_STREAM       0x1


typedef struct {
    /*
     * A complete, valid request header block opened a stream.  Malformed
     * requests never get here: the engine resets them (PROTOCOL_ERROR).
     * Return H2X_OK, or H2X_ERROR to have the stream reset with
     * INTERNAL_ERROR (the adapter still releases it).
     */
    int   (*on_request)(h2x_session_t *s, h2x_stream_t *st,
                        const h2x_request_t *req, void *user);

    /*
     * Request body bytes, valid during the call.  The window is credited
     * only when the adapter calls h2x_stream_consumed().  If on_data is
     * NULL the engine keeps the bytes (at most the stream window) for
     * h2x_stream_read().  len may be 0 with H2X_DATA_END_STREAM.
     */
    int   (*on_data)(h2x_session_t *s, h2x_stream_t *st,
                     const uint8_t *data, size_t len, unsigned flags,
                     void *user);

    /*
     * Request trailers (validated: no pseudo-headers, no connection-
     * specific fields); they end the request body.  If NULL, the end of
     * the body comes as on_data with H2X_DATA_END_STREAM instead.
     */
    int   (*on_trailers)(h2x_session_t *s, h2x_stream_t *st,
                         const h2x_header_t *h, size_t n, void *user);

    /*
     * The stream closed: code is H2X_NO_ERROR after a complete exchange,
     * else the code of the reset (by the peer or by us) or of the
     * connection error.  Called once; the stream stays valid until
     * h2x_stream_release().  Chunks still queued have been released.
     */
    void  (*on_stream_close)(h2x_session_t *s, h2x_stream_t *st,
                             uint32_t code, void *user);

    /* The peer sent GOAWAY. */
    void  (*on_goaway)(h2x_session_t *s, uint32_t last_stream_id,
                       uint32_t code, void *user);

    /*
     * A chunk queued with h2x_stream_write() was fully sent or dropped;
     * the engine no longer refers to it.  h2x_session_free() hands back
     * every chunk still queued this way too; from that call the adapter
     * must not call the session.  Also the back-pressure
     * wake-up: h2x_stream_queued() has gone down.  Fires from
     * h2x_session_sent() and h2x_session_pending() (written), and from
     * resets, connection errors and h2x_stream_release() (dropped).  A
     * chunk whose bytes are already in the pending output is released
     * only once they are written, possibly after h2x_stream_release():
     * st is then still valid for h2x_stream_get_data() during the call.
     */
    void  (*on_chunk_release)(h2x_session_t *s, h2x_stream_t *st,
                              void *ref, void *user);

    /*
     * The peer's window of a stream with queued output opened again
     * (WINDOW_UPDATE after it was exhausted).  Optional; on_chunk_release
     * is the other wake-up.
     */
    void  (*on_writable)(h2x_session_t *s, h2x_stream_t *st, void *user);

    /*
     * A peer misbehaved: one line for the host's error log, in the style
     * "client sent ...", static string.  Called for every connection
     * error, every abuse detection and every stream error we send.
     */
    void  (*on_log)(h2x_session_t *s, uint32_t stream_id, uint32_t code,
                    const char *reason, void *user);
} h2x_callbacks_t;


/* --- session -------------------------------------------------------- */

/* NULL when out of memory.  The config and callbacks are copied. */
h2x_session_t *h2x_session_new(const h2x_config_t *cfg,
    const h2x_callbacks_t *cb, void *user, const h2x_allocator_t *a);
void h2x_session_free(h2x_session_t *s);

/*
 * Parses everything given and fires callbacks.  now is the adapter's
 * monotonic clock in milliseconds.  Returns the bytes consumed (always
 * len unless the session failed), or H2X_ERROR after a connection error
 * (GOAWAY is then pending; flush it, then close).
 *
 * Request headers over the limits (max_field_size, max_header_fields,
 * max_header_list_size) are answered by the engine with a 431 response
 * (and RST_STREAM NO_ERROR if the request has a body) and never reach
 * on_request; trailers over them reset the stream (ENHANCE_YOUR_CALM).
 * Far over (twice the list size, ten times the field count, decoded):
 * GOAWAY ENHANCE_YOUR_CALM.
 */
long h2x_session_feed(h2x_session_t *s, const uint8_t *in, size_t len,
    uint64_t now);

/*
 * Timers: call when the deadline given by next_timeout passes.  They
 * are: the SETTINGS ACK timeout, step 2 of a graceful GOAWAY, the
 * deadline of a header block being received (header_timeout), and one
 * second after the session went idle, the release of its free lists.
 */
void h2x_session_tick(h2x_session_t *s, uint64_t now);

/*
 * No stream open: give back now what the session can rebuild cheaply
 * (the stream table, our HPACK table, the peer's if empty), as
 * h2x_session_tick() does a second after the session went idle; the free
 * lists of streams and chunks wait for that tick, so that a connection
 * busy in bursts does not allocate them again for each.  For hosts that
 * keep many idle connections and free their own buffers at once.  The
 * next response block then starts with HPACK size updates (0, then the
 * table size) so that the peer drops our old entries; the peer's table
 * is its state and stays while it holds entries.  Does nothing while
 * streams are open or a header block is in progress.
 */
void h2x_session_shrink(h2x_session_t *s);

/* Absolute time of the next engine deadline, or UINT64_MAX. */
uint64_t h2x_session_next_timeout(h2x_session_t *s);

/*
 * Fills up to max segments of output to write now, in order, and returns
 * their number (0: nothing to write).  DATA frames are cut here, at most
 * max_unsent_output / 4 ahead of what was written.  The segments stay
 * valid until the next call of any function of this session, so write
 * them, then call h2x_session_sent(), before submitting anything else.
 * May fire on_chunk_release and on_stream_close (empty END_STREAM frames
 * at the head of the output complete here).
 */
size_t h2x_session_pending(h2x_session_t *s, h2x_segment_t *segs,
    size_t max);
/*
 * n bytes from the start of the pending output were written.  Fires
 * on_chunk_release for chunks fully written, and on_stream_close when a
 * stream's last frame went out and the request had ended.
 */
void h2x_session_sent(h2x_session_t *s, size_t n);

/* 0 while the session should not read (output above the ceiling). */
int h2x_session_want_read(h2x_session_t *s);
/* Non-zero when there is output to write. */
int h2x_session_want_write(h2x_session_t *s);
/* Non-zero once the connection should be closed after flushing. */
int h2x_session_want_close(h2x_session_t *s);

/*
 * GOAWAY.  graceful: announce shutdown (GOAWAY with 2^31-1 and a PING,
 * then, at the PING ACK or after goaway_ping_timeout, the GOAWAY with the
 * last stream announced by on_request; the timeout counts from the next
 * feed() or tick(), and next_timeout() returns 0 until then, so that an
 * adapter's timer calls tick() with a fresh clock at once), let open
 * streams finish, then
 * want_close.  Otherwise an immediate GOAWAY with code: with NO_ERROR
 * open streams still finish; with an error code every stream is closed
 * (on_stream_close with that code) and want_close is set.
 */
int h2x_session_goaway(h2x_session_t *s, uint32_t code, int graceful);

const h2x_stats_t *h2x_session_stats(h2x_session_t *s);
/* Streams not yet released by the adapter. */
size_t h2x_session_streams(h2x_session_t *s);
/*
 * Bytes of engine memory held by this session (what its allocator
 * handed out, headers included).  The HPACK tables are allocated with the
 * first request and response; the header block buffer, the output buffer
 * and (a second later, see tick) the free lists go when the session has
 * no stream.
 */
size_t h2x_session_memory(h2x_session_t *s);


/* --- streams -------------------------------------------------------- */

uint32_t h2x_stream_id(h2x_stream_t *st);
void h2x_stream_set_data(h2x_stream_t *st, void *data);
void *h2x_stream_get_data(h2x_stream_t *st);

/*
 * Response fields, the one set of rules of both adapters (RFC 9113 8.2).
 * h2x_response_field() says what the submit functions below do with a
 * field (names are expected lowercase, as HTTP/2 sends them):
 * connection-specific fields (connection, keep-alive, proxy-connection,
 * transfer-encoding, upgrade, te, http2-settings; any case) are left
 * out; a name that is not a lowercase token or a value with a control
 * byte (NUL, CR, LF, ...; HTAB is allowed) is left out (counted in
 * stats.response_fields_dropped, for the adapter to log) or refuses the
 * whole block, as cfg.bad_response_field says;
 * spaces and tabs around values are trimmed.
 */
#define H2X_FIELD_OK              0
#define H2X_FIELD_HOP             1    /* connection-specific */
#define H2X_FIELD_BAD_NAME        2
#define H2X_FIELD_BAD_VALUE       3

int h2x_response_field(const h2x_header_t *f);

/* The size of a field list as cfg.max_response_header_size counts it. */
size_t h2x_response_header_size(const h2x_header_t *h, size_t n);

/*
 * Response HEADERS.  status 100..199 (not 101) sends an interim response
 * (any number, before the final one); 200..599 the final one, once.
 * Fields are filtered as described above; a block that is refused
 * returns H2X_ERROR, one larger than cfg.max_response_header_size
 * H2X_TOO_LARGE (nothing sent: the adapter may answer 500 instead).
 * end_stream: no body follows.  The block is encoded at once (HEADERS +
 * CONTINUATION at the peer's max frame size).
 *
 * The functions below that queue output return H2X_OK, H2X_NOMEM (nothing
 * queued), H2X_ERROR (misuse: after release, a second final response,
 * data after the end of the body, ...) or H2X_DONE when the stream is
 * already closed (reset by the peer): the call did nothing and a chunk
 * stays the caller's.
 */
int h2x_stream_submit_response(h2x_session_t *s, h2x_stream_t *st,
    unsigned status, const h2x_header_t *h, size_t n, int end_stream);

/*
 * Queue a body chunk (len may be 0 with end_stream; a zero-length chunk
 * without end_stream is ignored and not released).  Never copied: DATA
 * payload segments point into it (memory) or carry its file range.
 * Chunks may be queued before the final response; they wait for it.
 */
int h2x_stream_write(h2x_session_t *s, h2x_stream_t *st,
    const h2x_chunk_t *chunk, int end_stream);

/*
 * Trailers after the queued body; they end the stream.  h is copied and
 * encoded when the body before it has gone out.  Filtered and bounded as
 * response headers (H2X_ERROR, H2X_TOO_LARGE: nothing queued).
 */
int h2x_stream_submit_trailers(h2x_session_t *s, h2x_stream_t *st,
    const h2x_header_t *h, size_t n);

/*
 * RST_STREAM with code; queued chunks are released (those already in the
 * pending output once written), on_stream_close fires with code.
 */
int h2x_stream_reset(h2x_session_t *s, h2x_stream_t *st, uint32_t code);

/* Bytes queued for this stream and not yet sent. */
size_t h2x_stream_queued(h2x_stream_t *st);

/*
 * The largest DATA payload of this stream's response (nginx's
 * http2_chunk_size is a location's); 0 returns to the session's
 * chunk_size.  Never above the peer's SETTINGS_MAX_FRAME_SIZE.
 */
void h2x_stream_set_chunk_size(h2x_stream_t *st, uint32_t size);

/*
 * The adapter took n body bytes delivered by on_data.  Credit goes back
 * batched: a stream WINDOW_UPDATE when the peer's allowance is short of
 * the window by half of it, a connection one at half of
 * connection_window_size.  Bytes never consumed are credited to the
 * connection when the stream closes.
 */
void h2x_stream_consumed(h2x_session_t *s, h2x_stream_t *st, size_t n);

/*
 * Without on_data: copy up to len buffered body bytes into buf and credit
 * the window.  Returns the bytes copied, 0 at the end of the body,
 * H2X_AGAIN when none is buffered yet, H2X_ERROR after a reset.  With
 * H2X_READ_CHUNKED the body is framed as HTTP/1.1 chunked encoding
 * ("%x\r\n" data "\r\n" ... "0\r\n" trailers "\r\n", see
 * h2x_chunked_frame()), for hosts whose body readers need it when there
 * is no content-length; any len works, the framing carries over between
 * calls.  Use one mode per stream.  Request trailers (kept by the engine
 * when on_data is NULL) become the chunked trailer section.
 */
#define H2X_READ_CHUNKED          0x1

long h2x_stream_read(h2x_session_t *s, h2x_stream_t *st, uint8_t *buf,
    size_t len, unsigned flags);

/*
 * HTTP/1.1 chunked framing (RFC 9112 7.1) of a body that arrives in
 * pieces, into output buffers of any size: the one implementation behind
 * H2X_READ_CHUNKED, for adapters that keep request bodies themselves
 * (delivered by on_data, read on another thread, ...).
 *
 * Each call writes at most size bytes into out and returns their number.
 * in / *in_len are the body bytes the caller holds and has not handed
 * over yet; *in_len is set to the bytes taken, which the caller drops
 * (and credits: h2x_stream_consumed()).  Bytes not taken must come first
 * in the next call.  last: the body ends after them; then the last chunk
 * and the trailer section (tr, ntr: the same array on every call; may be
 * NULL) follow.  0 with h2x_chunked_done() false: more body is needed.
 */
typedef struct {
    uint64_t                   left;      /* data left of this chunk */
    size_t                     field;     /* trailer being written */
    size_t                     off;       /* its bytes written */
    uint8_t                    head[20];  /* chunk head, CRLF, "0" CRLF */
    uint8_t                    head_len;
    uint8_t                    head_pos;
    uint8_t                    state;
} h2x_chunked_t;

void h2x_chunked_init(h2x_chunked_t *c);
size_t h2x_chunked_frame(h2x_chunked_t *c, uint8_t *out, size_t size,
    const uint8_t *in, size_t *in_len, int last, const h2x_header_t *tr,
    size_t ntr);
int h2x_chunked_done(const h2x_chunked_t *c);


/*
 * The adapter is done with the stream; frees its slot if it holds one.  If
 * the response was not complete the stream is reset (INTERNAL_ERROR) and
 * its queued chunks are released.  If it was complete, queued output
 * still goes out (then RST_STREAM NO_ERROR if the request body had not
 * ended, RFC 9113 8.1).  No callback fires for the stream afterwards,
 * except on_chunk_release for chunks in the pending output.
 */
void h2x_stream_release(h2x_session_t *s, h2x_stream_t *st);


#endif /* _H2X_SESSION_H_INCLUDED_ */
