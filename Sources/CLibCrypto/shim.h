// OpenSSL's SHA-256 (libcrypto, Debian `libssl-dev` for the header, `libssl3` at run time): its assembly
// uses AVX2 and SHA-NI where the CPU has them, about twice as fast here as the SHA-256 swift-crypto
// bundles. Only the types come from here: ContentDigest opens libcrypto with dlopen the first time it
// hashes, so a command that never hashes does not pay for loading it (about 1 ms of every start).
// The one-shot SHA256_* calls are deprecated in OpenSSL 3 in favour of EVP, but a SHA256_CTX is a plain
// value a Swift struct can hold.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
