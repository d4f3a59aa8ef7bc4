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
/* false when full, or when the cell to fill is still being emptied */
bool mpmc_try_push(struct mpmc *q, void *item);
/*
 * mpmc_try_push that says why it failed: MPMC_FULL when the queue held
 * CAPACITY items, MPMC_BUSY when a consumer had claimed the cell to fill and
 * not yet handed it on (the queue was not full; retry).
 */
enum mpmc_offer { MPMC_PUSHED, MPMC_FULL, MPMC_BUSY };
enum mpmc_offer mpmc_offer(struct mpmc *q, void *item);
/* false when empty */
bool mpmc_try_pop(struct mpmc *q, void **item);
size_t mpmc_capacity(const struct mpmc *q);
/* approximate, for stats only */
size_t mpmc_size_approx(const struct mpmc *q);

#endif
