/* The C reference for bench/batch.py: PUSH -> PULL throughput on libzmq's
 * per-message API (zmq_send / zmq_recv), the sender in a forked process.
 *
 *   thr_libzmq <bind endpoint, e.g. tcp://127.0.0.1:5599> <size> <count>
 *
 * Prints one line: "<messages per second>". The clock starts at the first
 * message received, as in libzmq's local_thr, and stops at the last. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int send_all(const char *endpoint, size_t size, long count)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_PUSH);
    char *body = calloc(1, size ? size : 1);
    int linger = -1;
    if (!body || zmq_connect(s, endpoint) != 0)
        return 1;
    for (long i = 0; i < count; i++)
        if (zmq_send(s, body, size, 0) < 0)
            return 1;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(s);
    zmq_ctx_term(ctx);
    free(body);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s <bind endpoint> <size> <count>\n", argv[0]);
        return 2;
    }
    const char *endpoint = argv[1];
    size_t size = strtoul(argv[2], NULL, 10);
    long count = strtol(argv[3], NULL, 10);
    pid_t child = fork();
    if (child == 0) {
        usleep(100000);         /* the receiver binds first (connect would retry anyway) */
        _exit(send_all(endpoint, size, count));
    }
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_PULL);
    char *buf = malloc(size + 1);
    if (!buf || zmq_bind(s, endpoint) != 0) {
        perror("bind");
        return 1;
    }
    if (zmq_recv(s, buf, size + 1, 0) < 0)
        return 1;
    double start = now();
    for (long i = 1; i < count; i++)
        if (zmq_recv(s, buf, size + 1, 0) < 0)
            return 1;
    double elapsed = now() - start;
    int status = 0;
    waitpid(child, &status, 0);
    printf("%.0f\n", (count - 1) / elapsed);
    zmq_close(s);
    zmq_ctx_term(ctx);
    free(buf);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
