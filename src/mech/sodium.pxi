# libsodium, loaded at import. mqcore links no crypto library of its own:
# the core asks a libsodium for the addresses of the few functions CURVE
# needs and keeps them in SODIUM, a table of C function pointers. The io
# threads call them like any C function: no Python, no GIL.
#
# Where from: by default the copy PyNaCl ships inside its cffi module
# nacl._sodium (a dependency). MQCORE_SODIUM picks another: a path to a
# libsodium shared library, or "system" for the one the dynamic loader
# finds (libsodium.so.26, .23). That matters for speed only: CURVE traffic
# is XSalsa20-Poly1305 and little else, and builds differ (measured here,
# one box plus one open of 1 MiB: PyNaCl 1.6's and Debian's libsodium23
# about 0.85 GB/s, the libsodium 1.0.22 that pyzmq bundles 1.3 GB/s).
# sodium_library() tells which one was taken. With none, the table stays
# empty, has("curve") is False and the CURVE options are refused, as in a
# libzmq built without libsodium.
#
# The "easy" box functions are used: their output is the 16-byte MAC then
# the ciphertext, which is exactly what CurveZMQ puts on the wire (no zero
# padding to add or strip), and they accept overlapping input and output.

cdef extern from "<dlfcn.h>" nogil:
    void *dlopen(const char *filename, int flag)
    void *dlsym(void *handle, const char *symbol)
    int dlclose(void *handle)
    int RTLD_NOW
    int RTLD_LOCAL

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


cdef object SODIUM_SOURCE = None       # where SODIUM's functions come from
SODIUM_SYSTEM_NAMES = ("libsodium.so.26", "libsodium.so.23")


cdef int sodium_fill(object address) except -1:
    """SODIUM from address(name) -> a C function's address (0: missing).
    1 when every function is there and sodium_init worked, else 0 (and
    SODIUM empty)."""
    cdef sodium_init_fn init
    memset(&SODIUM, 0, sizeof(SODIUM))
    names = ("crypto_box_keypair", "crypto_scalarmult_base", "crypto_box_beforenm",
             "crypto_box_easy_afternm", "crypto_box_open_easy_afternm", "crypto_box_easy",
             "crypto_box_open_easy", "crypto_secretbox_easy", "crypto_secretbox_open_easy",
             "randombytes", "sodium_memzero", "sodium_init")
    cdef list at = []
    for name in names:
        a = address(name)
        if not a:
            return 0
        at.append(a)
    SODIUM.box_keypair = <sodium_keypair_fn><size_t>at[0]
    SODIUM.scalarmult_base = <sodium_scalarmult_base_fn><size_t>at[1]
    SODIUM.box_beforenm = <sodium_beforenm_fn><size_t>at[2]
    SODIUM.box_afternm = <sodium_box_afternm_fn><size_t>at[3]
    SODIUM.box_open_afternm = <sodium_box_afternm_fn><size_t>at[4]
    SODIUM.box = <sodium_box_fn><size_t>at[5]
    SODIUM.box_open = <sodium_box_fn><size_t>at[6]
    SODIUM.secretbox = <sodium_box_afternm_fn><size_t>at[7]
    SODIUM.secretbox_open = <sodium_box_afternm_fn><size_t>at[8]
    SODIUM.random = <sodium_random_fn><size_t>at[9]
    SODIUM.memzero = <sodium_memzero_fn><size_t>at[10]
    init = <sodium_init_fn><size_t>at[11]
    # 0 first time, 1 already done (PyNaCl's own import does it): both fine.
    # It also picks the fastest code for this CPU: without it libsodium
    # runs its reference XSalsa20 at half the speed.
    if init() < 0:
        memset(&SODIUM, 0, sizeof(SODIUM))
        return 0
    SODIUM.ok = True
    return 1


cdef int sodium_from_file(object path) except -1:
    """SODIUM from a libsodium shared library (kept loaded). 1 or 0."""
    cdef bytes bpath = path.encode() if isinstance(path, str) else bytes(path)
    cdef void *h = dlopen(bpath, RTLD_NOW | RTLD_LOCAL)
    if h == NULL:
        return 0
    handle = <size_t>h

    def address(name):
        cdef bytes b = name.encode()
        return <size_t>dlsym(<void *>handle, b)
    if sodium_fill(address):
        return 1
    dlclose(h)
    return 0


cdef int sodium_from_pynacl() except -1:
    try:
        from nacl import _sodium
    except ImportError:
        return 0
    ffi, lib = _sodium.ffi, _sodium.lib

    def address(name):
        try:
            return int(ffi.cast("uintptr_t", ffi.addressof(lib, name)))
        except AttributeError:
            return 0
    return sodium_fill(address)


cdef int sodium_load() except -1:
    """Fills SODIUM (see the top of this file); leaves it empty (ok False)
    when the libsodium asked for cannot be loaded."""
    global SODIUM_SOURCE
    import os
    want = os.environ.get("MQCORE_SODIUM", "") or "pynacl"
    memset(&SODIUM, 0, sizeof(SODIUM))
    SODIUM_SOURCE = None
    if want == "pynacl":
        if sodium_from_pynacl():
            SODIUM_SOURCE = "pynacl"
    elif want == "system":
        for name in SODIUM_SYSTEM_NAMES:
            if sodium_from_file(name):
                SODIUM_SOURCE = name
                break
    elif sodium_from_file(want):
        SODIUM_SOURCE = want
    return 0


def sodium_library():
    """Which libsodium CURVE uses: "pynacl" (the copy inside PyNaCl, the
    default), a shared library's name or path (MQCORE_SODIUM), or None
    (no CURVE)."""
    return SODIUM_SOURCE


sodium_load()
