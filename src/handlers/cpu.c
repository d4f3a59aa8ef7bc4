/*
 * cpu.c - the CPU-bound workload: count the primes <= n by trial division,
 * as the original study did (its default: primes up to 10,000).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>

#include "handlers.h"

static bool
is_prime(unsigned long k)
{
	unsigned long d;

	if (k < 2)
		return false;
	if (k < 4)
		return true;
	if (k % 2 == 0)
		return false;
	for (d = 3; d * d <= k; d += 2)
		if (k % d == 0)
			return false;
	return true;
}

unsigned long
primes_count(unsigned long n)
{
	unsigned long k, count = 0;

	for (k = 2; k <= n; k++)
		count += is_prime(k);
	return count;
}

void
handler_cpu(const struct server *srv, const struct route *rt,
    const struct http_request *req, const char *path, size_t path_len,
    struct response *resp)
{
	uint64_t n = rt->cpu_n;

	if (!handler_param(req, "n", rt->cpu_n_max, &n, resp))
		return;
	handler_cpu_run(n, resp);
}

void
handler_cpu_run(uint64_t n, struct response *resp)
{
	response_printf(resp, 200, "primes<=%llu: %lu\n", (unsigned long long)n,
	    primes_count((unsigned long)n));
}
