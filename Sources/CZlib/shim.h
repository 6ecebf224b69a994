// zlib (Debian `zlib1g-dev`), for inflating git objects: read only by GitSupport.
#include <zlib.h>

/* inflateInit is a macro passing zlib's version and z_stream's size, which Swift cannot call. */
static inline int gantry_inflate_init(z_stream *stream) {
    return inflateInit(stream);
}
