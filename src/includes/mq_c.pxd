# Extern declarations of the small C headers in src/c/ and the few POSIX
# calls the core makes. Everything here is callable without the GIL.
from libc.stdint cimport uint32_t, uint64_t, int64_t

cdef extern from "mq_atomic.h" nogil:
    void *mq_ptr_cas(void **p, void *expected, void *desired)
    void *mq_ptr_xchg(void **p, void *v)
    void mq_ptr_store(void **p, void *v)
    void *mq_ptr_load(void **p)
    int mq_int_add(int *p, int v)
    int mq_int_load(int *p)
    void mq_int_store(int *p, int v)
    int mq_int_xchg(int *p, int v)
    int mq_int_load_relaxed(int *p)
    void mq_int_store_relaxed(int *p, int v)
    void mq_int_store_sc(int *p, int v)
    int mq_int_load_sc(int *p)
    int mq_int_xchg_sc(int *p, int v)
    void mq_cpu_relax()
    void mq_spin_lock(int *flag)
    bint mq_spin_trylock(int *flag)
    void mq_spin_unlock(int *flag)
    void mq_fence_sc()
    uint64_t mq_u64_load(uint64_t *p)
    void mq_u64_store_release(uint64_t *p, uint64_t v)
    void mq_stack_push(void **head, void *node)
    void *mq_stack_take_all(void **head)

cdef extern from "mq_alloc.h" nogil:
    # Every allocation of the core goes through these (fault injection for
    # tests; one predictable branch otherwise).
    void *mq_malloc(size_t n)
    void *mq_calloc(size_t k, size_t n)
    void *mq_realloc(void *p, size_t n)
    void mq_alloc_arm(long fail_at, long fail_count, int all_threads)
    void mq_alloc_join_scope()
    void mq_alloc_disarm()
    long mq_alloc_call_count()
    long mq_alloc_fail_total()

cdef extern from "<pthread.h>" nogil:
    ctypedef struct pthread_mutex_t:
        pass
    ctypedef struct pthread_cond_t:
        pass

cdef extern from "mq_signaler.h" nogil:
    ctypedef struct mq_sig_t:
        int rfd
        int wfd
    int mq_sig_open(mq_sig_t *s)
    void mq_sig_close(mq_sig_t *s)
    void mq_sig_send(mq_sig_t *s)
    void mq_sig_drain(mq_sig_t *s)
    int mq_sig_wait(mq_sig_t *s, int timeout_ms)
    int mq_sig_wait_fd(mq_sig_t *s, int fd, int timeout_ms)
    int mq_cond_wait_ms(pthread_cond_t *c, pthread_mutex_t *m, int ms)
    void mq_name_this_thread(const char *name)

cdef extern from "mq_poller.h" nogil:
    enum:
        MQ_POLLIN
        MQ_POLLOUT
        MQ_POLLERR
    ctypedef struct mq_pevent_t:
        void *ptr
        int events
    ctypedef struct mq_poller_t:
        int kind
    mq_poller_t *mq_poller_new(int force_poll)
    void mq_poller_free(mq_poller_t *p)
    int mq_poller_add(mq_poller_t *p, int fd, void *ptr, int events)
    int mq_poller_mod(mq_poller_t *p, int fd, void *ptr, int events)
    int mq_poller_del(mq_poller_t *p, int fd)
    int mq_poller_wait(mq_poller_t *p, mq_pevent_t *out, int max, int timeout_ms)

cdef extern from "<sys/types.h>" nogil:
    ctypedef long ssize_t

cdef extern from "<sys/uio.h>" nogil:
    struct iovec:
        void *iov_base
        size_t iov_len

cdef extern from "mq_net.h" nogil:
    ctypedef struct mq_addr_t:
        int len
    int mq_socket(int family, int type)
    int mq_peer_address(int fd, char *buf, size_t cap)
    int mq_addr_family(const mq_addr_t *a)
    int mq_ip_resolve(const char *host, const char *port, int ipv6, int passive, int socktype, mq_addr_t *out)
    int mq_split_host_port(const char *address, char *host, size_t hn, char *port, size_t pn)
    int mq_parse_port(const char *port, int allow_any)
    int mq_looks_numeric(const char *host)
    void mq_endpoint_name(char *buf, size_t n, const char *scheme, const char *address)
    int mq_ipc_addr(const char *path, mq_addr_t *out)
    char *mq_ipc_path(const mq_addr_t *a, char *buf, size_t n)
    int mq_make_temp_dir(char *buf, size_t n)
    void mq_remove_parent_dir(char *path)
    unsigned long long mq_file_id(const char *path)
    int mq_bind_listen(int fd, const mq_addr_t *a, int backlog)
    int mq_local_addr(int fd, mq_addr_t *out)
    int mq_ip_endpoint(const char *scheme, const mq_addr_t *a, char *buf, size_t n)
    int mq_connect_fd(int fd, const mq_addr_t *a)
    int mq_connect_start(const mq_addr_t *a, int *fd_out)
    int mq_connect_finish(int fd)
    int mq_accept(int lfd)
    void mq_set_buffers(int fd, int sndbuf, int rcvbuf)
    void mq_tune_stream(int fd, int is_tcp)
    void mq_tcp_keepalive(int fd, int on, int cnt, int idle, int intvl)
    void mq_set_tos(int fd, int tos)
    void mq_tcp_maxrt(int fd, int ms)
    enum:
        SOCK_STREAM
        SOCK_DGRAM
        AF_UNIX
        IPC_PATH_MAX
    ssize_t mq_writev(int fd, iovec *iov, int n)
    ssize_t mq_read(int fd, void *buf, size_t n)

cdef extern from "mq_wire.h" nogil:
    void mq_put_u32(unsigned char *p, uint32_t v)
    uint32_t mq_get_u32(const unsigned char *p)
    void mq_put_u64(unsigned char *p, uint64_t v)
    uint64_t mq_get_u64(const unsigned char *p)
    int64_t mq_now_ms()
    int64_t mq_now_ns()

cdef extern from "<pthread.h>" nogil:
    ctypedef struct pthread_t:
        pass
    int pthread_create(pthread_t *t, void *attr, void *(*fn)(void *) noexcept nogil, void *arg)
    int pthread_join(pthread_t t, void **ret)
    int pthread_mutex_init(pthread_mutex_t *m, void *attr)
    int pthread_mutex_destroy(pthread_mutex_t *m)
    int pthread_mutex_lock(pthread_mutex_t *m)
    int pthread_mutex_unlock(pthread_mutex_t *m)
    int pthread_cond_init(pthread_cond_t *c, void *attr)
    int pthread_cond_destroy(pthread_cond_t *c)
    int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
    int pthread_cond_broadcast(pthread_cond_t *c)

cdef extern from "<errno.h>" nogil:
    int errno
    enum:
        EAGAIN
        EINTR
        EINVAL
        ENOTSUP
        EPROTONOSUPPORT
        EADDRINUSE
        ENOENT
        EFAULT
        EMSGSIZE
        EPROTO
        ENOMEM
        EHOSTUNREACH
        EINPROGRESS
        ECONNREFUSED
        ENOTSOCK
        EMFILE
        ENODEV
        ENAMETOOLONG
        EPIPE

cdef extern from "<unistd.h>" nogil:
    int close(int fd)
    int unlink(const char *path)
    int rmdir(const char *path)

cdef extern from "<poll.h>" nogil:
    struct pollfd:
        int fd
        short events
        short revents
    int poll(pollfd *fds, unsigned long nfds, int timeout)
    enum:
        POLLIN
        POLLOUT
        POLLERR
        POLLPRI
        POLLHUP
        POLLNVAL

cdef extern from "mq_idmap.h" nogil:
    ctypedef struct mq_idmap_t:
        size_t live
    mq_idmap_t *mq_idmap_new()
    void mq_idmap_free(mq_idmap_t *m)
    void *mq_idmap_get(mq_idmap_t *m, const unsigned char *k, size_t n)
    int mq_idmap_put(mq_idmap_t *m, const unsigned char *k, size_t n, void *v)
    void mq_idmap_del(mq_idmap_t *m, const unsigned char *k, size_t n)
    uint32_t mq_random_u32()

cdef extern from "<sched.h>" nogil:
    int sched_yield()
