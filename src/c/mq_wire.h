/* Big-endian integers as ZMTP puts them on the wire, and a monotonic clock. */
#ifndef MQ_WIRE_H
#define MQ_WIRE_H
#include <stdint.h>
#include <time.h>

static inline void mq_put_u32(unsigned char *p, uint32_t v)
{ p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static inline uint32_t mq_get_u32(const unsigned char *p)
{ return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }
static inline void mq_put_u64(unsigned char *p, uint64_t v)
{ mq_put_u32(p, (uint32_t)(v >> 32)); mq_put_u32(p + 4, (uint32_t)v); }
static inline uint64_t mq_get_u64(const unsigned char *p)
{ return ((uint64_t)mq_get_u32(p) << 32) | mq_get_u32(p + 4); }

static inline int64_t mq_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t mq_now_ms(void)
{
    return mq_now_ns() / 1000000;
}
#endif
