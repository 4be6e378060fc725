/*
 * h2x: the default allocator and error code names.
 */

#include <stdlib.h>

#include "h2x.h"


static void *
h2x_default_alloc(size_t size, void *ctx)
{
    (void) ctx;

    return malloc(size);
}


static void
h2x_default_free(void *ptr, void *ctx)
{
    (void) ctx;

    free(ptr);
}


static const h2x_allocator_t  h2x_default_allocator = {
    h2x_default_alloc,
    h2x_default_free,
    NULL
};


const h2x_allocator_t *
h2x_allocator_default(void)
{
    return &h2x_default_allocator;
}


const char *
h2x_error_code_name(uint32_t code)
{
    static const char  *names[] = {
        "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
        "SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR",
        "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR",
        "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"
    };

    if (code < sizeof(names) / sizeof(names[0])) {
        return names[code];
    }

    return "UNKNOWN";
}
