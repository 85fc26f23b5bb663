# libsodium, taken from PyNaCl. mqcore links no crypto library of its own:
# PyNaCl ships libsodium in its wheels (inside its cffi module nacl._sodium),
# so at import the core asks that module for the addresses of the few
# functions CURVE needs and keeps them in SODIUM, a table of C function
# pointers. The io threads call them like any C function: no Python, no GIL.
# Without PyNaCl the table stays empty, has("curve") is False and the CURVE
# options are refused, as in a libzmq built without libsodium.
#
# The "easy" box functions are used: their output is the 16-byte MAC then
# the ciphertext, which is exactly what CurveZMQ puts on the wire (no zero
# padding to add or strip), and they accept overlapping input and output.

ctypedef int (*sodium_init_fn)() noexcept nogil
ctypedef int (*sodium_keypair_fn)(unsigned char *pk, unsigned char *sk) noexcept nogil
ctypedef int (*sodium_scalarmult_base_fn)(unsigned char *q, const unsigned char *n) noexcept nogil
ctypedef int (*sodium_beforenm_fn)(unsigned char *k, const unsigned char *pk,
                                   const unsigned char *sk) noexcept nogil
ctypedef int (*sodium_box_afternm_fn)(unsigned char *out, const unsigned char *inp,
                                      unsigned long long n, const unsigned char *nonce,
                                      const unsigned char *k) noexcept nogil
ctypedef int (*sodium_box_fn)(unsigned char *out, const unsigned char *inp, unsigned long long n,
                              const unsigned char *nonce, const unsigned char *pk,
                              const unsigned char *sk) noexcept nogil
ctypedef void (*sodium_random_fn)(unsigned char *buf, unsigned long long n) noexcept nogil
ctypedef void (*sodium_memzero_fn)(void *p, size_t n) noexcept nogil

cdef enum:
    CURVE_KEY = 32          # crypto_box public and secret keys, precomputed keys
    CURVE_MAC = 16          # crypto_box_MACBYTES
    CURVE_NONCE = 24        # crypto_box_NONCEBYTES

cdef struct sodium_t:
    bint ok                                     # every entry below is filled
    sodium_keypair_fn box_keypair               # crypto_box_keypair
    sodium_scalarmult_base_fn scalarmult_base   # public key of a secret key
    sodium_beforenm_fn box_beforenm             # precomputed key of a key pair
    sodium_box_afternm_fn box_afternm           # crypto_box_easy_afternm
    sodium_box_afternm_fn box_open_afternm      # crypto_box_open_easy_afternm
    sodium_box_fn box                           # crypto_box_easy
    sodium_box_fn box_open                      # crypto_box_open_easy
    sodium_box_afternm_fn secretbox             # crypto_secretbox_easy
    sodium_box_afternm_fn secretbox_open        # crypto_secretbox_open_easy
    sodium_random_fn random                     # randombytes (randombytes_buf's twin)
    sodium_memzero_fn memzero                   # sodium_memzero

cdef sodium_t SODIUM


cdef size_t _sodium_address(object ffi, object lib, str name) except 0:
    return <size_t>int(ffi.cast("uintptr_t", ffi.addressof(lib, name)))


cdef int sodium_load() except -1:
    """Fills SODIUM from PyNaCl's libsodium; leaves it empty (ok False)
    when PyNaCl is not installed or lacks a function."""
    memset(&SODIUM, 0, sizeof(SODIUM))
    try:
        from nacl import _sodium
        ffi, lib = _sodium.ffi, _sodium.lib
        SODIUM.box_keypair = <sodium_keypair_fn>_sodium_address(ffi, lib, "crypto_box_keypair")
        SODIUM.scalarmult_base = <sodium_scalarmult_base_fn>_sodium_address(ffi, lib, "crypto_scalarmult_base")
        SODIUM.box_beforenm = <sodium_beforenm_fn>_sodium_address(ffi, lib, "crypto_box_beforenm")
        SODIUM.box_afternm = <sodium_box_afternm_fn>_sodium_address(ffi, lib, "crypto_box_easy_afternm")
        SODIUM.box_open_afternm = <sodium_box_afternm_fn>_sodium_address(ffi, lib, "crypto_box_open_easy_afternm")
        SODIUM.box = <sodium_box_fn>_sodium_address(ffi, lib, "crypto_box_easy")
        SODIUM.box_open = <sodium_box_fn>_sodium_address(ffi, lib, "crypto_box_open_easy")
        SODIUM.secretbox = <sodium_box_afternm_fn>_sodium_address(ffi, lib, "crypto_secretbox_easy")
        SODIUM.secretbox_open = <sodium_box_afternm_fn>_sodium_address(ffi, lib, "crypto_secretbox_open_easy")
        SODIUM.random = <sodium_random_fn>_sodium_address(ffi, lib, "randombytes")
        SODIUM.memzero = <sodium_memzero_fn>_sodium_address(ffi, lib, "sodium_memzero")
        init = <sodium_init_fn>_sodium_address(ffi, lib, "sodium_init")
    except (ImportError, AttributeError):
        memset(&SODIUM, 0, sizeof(SODIUM))
        return 0
    # 0 first time, 1 already done (PyNaCl's own import does it): both fine.
    if init() < 0:
        memset(&SODIUM, 0, sizeof(SODIUM))
        return 0
    SODIUM.ok = True
    return 0


sodium_load()
