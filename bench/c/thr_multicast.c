/* The C reference for bench/multicast.py: datagram throughput of libzmq's
 * RADIO -> DISH over udp and PUB -> SUB over epgm, on its per-message API,
 * the sender in a forked process. Built against the reference libzmq (draft
 * API and PGM; tools/build_reference_libzmq.sh).
 *
 *   thr_multicast radio <udp endpoint> <size> <count>
 *   thr_multicast pgm <epgm endpoint> <size> <count> <rate kbit/s>
 *
 * Neither transport has flow control: the sender queues every message
 * (SNDHWM 0) and its io thread sends as fast as the transport lets it; the
 * receiver counts what arrives and stops after 500 ms without a message. Prints one line:
 * "<received> <seconds from the first message to the last>". */
#define ZMQ_BUILD_DRAFT_API 1
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

static void set_int(void *s, int option, int value)
{
    zmq_setsockopt(s, option, &value, sizeof value);
}

static int send_all(int radio, const char *endpoint, size_t size, long count, int rate)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, radio ? ZMQ_RADIO : ZMQ_PUB);
    char *body = calloc(1, size ? size : 1);
    set_int(s, ZMQ_SNDHWM, 0);  /* queue everything: the transport, not the pipe, sets the pace */
    if (!radio)
        set_int(s, ZMQ_RATE, rate);
    if (!body || zmq_connect(s, endpoint) != 0)
        return 1;
    usleep(200000);             /* let the receiver's join and PGM's SPMs settle */
    for (long i = 0; i < count; i++) {
        zmq_msg_t msg;
        zmq_msg_init_size(&msg, size);
        memcpy(zmq_msg_data(&msg), body, size);
        if (radio)
            zmq_msg_set_group(&msg, "bench");
        if (zmq_msg_send(&msg, s, 0) < 0)
            return 1;
    }
    set_int(s, ZMQ_LINGER, 10000);   /* PGM drains at RATE */
    zmq_close(s);
    zmq_ctx_term(ctx);
    free(body);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s radio|pgm <endpoint> <size> <count> [rate]\n", argv[0]);
        return 2;
    }
    int radio = strcmp(argv[1], "radio") == 0;
    const char *endpoint = argv[2];
    size_t size = strtoul(argv[3], NULL, 10);
    long count = strtol(argv[4], NULL, 10);
    int rate = argc > 5 ? atoi(argv[5]) : 1000000;

    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, radio ? ZMQ_DISH : ZMQ_SUB);
    int rc;
    set_int(s, ZMQ_RCVTIMEO, 5000);
    set_int(s, ZMQ_RCVHWM, 0);
    if (radio) {
        rc = zmq_bind(s, endpoint);
        if (rc == 0)
            rc = zmq_join(s, "bench");
    } else {
        set_int(s, ZMQ_RATE, rate);
        zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
        rc = zmq_connect(s, endpoint);
    }
    if (rc != 0) {
        fprintf(stderr, "receiver: %s\n", zmq_strerror(zmq_errno()));
        return 1;
    }
    pid_t child = fork();
    if (child == 0)
        _exit(send_all(radio, endpoint, size, count, rate));

    char *buf = malloc(size + 1);
    long received = 0;
    double first = 0, last = 0;
    if (zmq_recv(s, buf, size + 1, 0) >= 0) {
        received = 1;
        first = last = now();
        set_int(s, ZMQ_RCVTIMEO, 500);
        while (received < count && zmq_recv(s, buf, size + 1, 0) >= 0) {
            received++;
            last = now();
        }
    }
    int status = 0;
    waitpid(child, &status, 0);
    printf("%ld %.6f\n", received, last - first);
    zmq_close(s);
    zmq_ctx_term(ctx);
    free(buf);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
