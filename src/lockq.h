/*
 * lockq.h - a bounded queue of pointers: a ring buffer under one pthread mutex
 * with not-empty / not-full condition variables (the Knot DNS pool's shape).
 */
#ifndef LF_LOCKQ_H
#define LF_LOCKQ_H

#include <stdbool.h>
#include <stddef.h>

struct lockq;

int lockq_create(struct lockq **out, size_t capacity);	/* 0, -EINVAL, -ENOMEM */
void lockq_free(struct lockq *q);
bool lockq_try_push(struct lockq *q, void *item);
bool lockq_try_pop(struct lockq *q, void **item);
void lockq_push(struct lockq *q, void *item);	/* waits while full */
void *lockq_pop(struct lockq *q);		/* waits while empty */
size_t lockq_capacity(const struct lockq *q);
size_t lockq_size_approx(struct lockq *q);

#endif
