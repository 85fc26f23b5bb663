/* The C reference for bench/radio_dish.py: datagram throughput of libzmq's
 * RADIO -> DISH over udp on its per-message API, the sender in a forked
 * process. Built against the reference libzmq (draft API;
 * tools/build_reference_libzmq.sh).
 *
 *   thr_radio_dish <udp endpoint> <size> <count>
 *
 * udp has no flow control: the sender queues every message (SNDHWM 0) and
 * its io thread sends as fast as sendto goes; the receiver counts what
 * arrives and stops after 500 ms without a message. Prints one line:
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

static int send_all(const char *endpoint, size_t size, long count)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_RADIO);
    char *body = calloc(1, size ? size : 1);
    set_int(s, ZMQ_SNDHWM, 0);  /* queue everything: the transport, not the pipe, sets the pace */
    if (!body || zmq_connect(s, endpoint) != 0)
        return 1;
    usleep(200000);             /* the receiver is bound and joined by then */
    for (long i = 0; i < count; i++) {
        zmq_msg_t msg;
        zmq_msg_init_size(&msg, size);
        memcpy(zmq_msg_data(&msg), body, size);
        zmq_msg_set_group(&msg, "bench");
        if (zmq_msg_send(&msg, s, 0) < 0)
            return 1;
    }
    set_int(s, ZMQ_LINGER, 10000);
    zmq_close(s);
    zmq_ctx_term(ctx);
    free(body);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s <udp endpoint> <size> <count>\n", argv[0]);
        return 2;
    }
    const char *endpoint = argv[1];
    size_t size = strtoul(argv[2], NULL, 10);
    long count = strtol(argv[3], NULL, 10);

    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DISH);
    set_int(s, ZMQ_RCVTIMEO, 5000);
    set_int(s, ZMQ_RCVHWM, 0);
    int rc = zmq_bind(s, endpoint);
    if (rc == 0)
        rc = zmq_join(s, "bench");
    if (rc != 0) {
        fprintf(stderr, "receiver: %s\n", zmq_strerror(zmq_errno()));
        return 1;
    }
    pid_t child = fork();
    if (child == 0)
        _exit(send_all(endpoint, size, count));

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
