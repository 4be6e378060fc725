/*
 * h2x: an HTTP/2 engine for servers.
 *
 * Definitions shared by every part of the engine: the allocator hooks,
 * the error codes of RFC 9113 section 7 and the engine's return codes.
 * The engine is pure C with libc only: it never includes a header of
 * nginx, APR or Apache, never reads a clock and never does I/O.
 */

#ifndef _H2X_H_INCLUDED_
#define _H2X_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define H2X_VERSION               "0.1.0"


/* Return codes of engine functions; negative values are failures. */
#define H2X_OK                    0
#define H2X_ERROR                 -1   /* protocol error, see the error code */
#define H2X_AGAIN                 -2   /* need more input / more room */
#define H2X_NOMEM                 -3   /* an allocation failed */
#define H2X_DONE                  -4   /* nothing more to do */
#define H2X_TOO_LARGE             -5   /* over a configured bound */


/* RFC 9113 section 7: error codes carried by RST_STREAM and GOAWAY. */
typedef enum {
    H2X_NO_ERROR              = 0x0,
    H2X_PROTOCOL_ERROR        = 0x1,
    H2X_INTERNAL_ERROR        = 0x2,
    H2X_FLOW_CONTROL_ERROR    = 0x3,
    H2X_SETTINGS_TIMEOUT      = 0x4,
    H2X_STREAM_CLOSED         = 0x5,
    H2X_FRAME_SIZE_ERROR      = 0x6,
    H2X_REFUSED_STREAM        = 0x7,
    H2X_CANCEL                = 0x8,
    H2X_COMPRESSION_ERROR     = 0x9,
    H2X_CONNECT_ERROR         = 0xa,
    H2X_ENHANCE_YOUR_CALM     = 0xb,
    H2X_INADEQUATE_SECURITY   = 0xc,
    H2X_HTTP_1_1_REQUIRED     = 0xd
} h2x_error_code_t;


/*
 * Allocator hooks.  Every allocation of the engine goes through them, so
 * that each host can account for the memory of a connection.  alloc()
 * returns NULL on failure; the engine then fails the operation cleanly.
 * free() accepts NULL.  h2x_allocator_default() uses malloc()/free().
 */
typedef struct {
    void                     *(*alloc)(size_t size, void *ctx);
    void                      (*free)(void *ptr, void *ctx);
    void                      *ctx;
} h2x_allocator_t;


const h2x_allocator_t *h2x_allocator_default(void);

/* The name of an error code ("PROTOCOL_ERROR"), or "UNKNOWN". */
const char *h2x_error_code_name(uint32_t code);


static inline void *
h2x_alloc(const h2x_allocator_t *a, size_t size)
{
    return a->alloc(size, a->ctx);
}


static inline void
h2x_free(const h2x_allocator_t *a, void *ptr)
{
    a->free(ptr, a->ctx);
}


#endif /* _H2X_H_INCLUDED_ */
