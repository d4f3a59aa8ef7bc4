/*
 * mpmc.h - a lock-free bounded multi-producer multi-consumer queue of
 * pointers (Vyukov's bounded MPMC design: one sequence stamp per cell).
 * Holds exactly CAPACITY items, any capacity >= 1. Non-blocking: the blocking
 * behaviour (spin, then park on an eventcount) lives in queue.c.
 */
#ifndef LF_MPMC_H
#define LF_MPMC_H

#include <stdbool.h>
#include <stddef.h>

struct mpmc;

/* 0 or -EINVAL (capacity 0) / -ENOMEM. */
int mpmc_create(struct mpmc **out, size_t capacity);
void mpmc_free(struct mpmc *q);
/* false when full */
bool mpmc_try_push(struct mpmc *q, void *item);
/* false when empty */
bool mpmc_try_pop(struct mpmc *q, void **item);
size_t mpmc_capacity(const struct mpmc *q);
/* approximate, for stats only */
size_t mpmc_size_approx(const struct mpmc *q);

#endif
