#define _GNU_SOURCE
/*
 * yardstick.c - NOT a server: the least work an epoll loop can do per
 * HTTP/1.1 keep-alive request on this machine, to bound what lfserver and its
 * peers could reach (docs/BENCHMARKS.md, "Where the time goes").
 *
 * One thread, one epoll set, level-triggered. It answers every read that
 * ends in "\r\n\r\n" with one canned response carrying the benchmark page
 * (read from FILE), and parses nothing else: no methods, no paths, no
 * limits, no timeouts. Pipelined requests in one read get one response.
 *
 *   bench/yardstick PORT FILE
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	static char resp[65536], buf[16384];
	struct epoll_event ev, evs[256];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int lfd, ep, fd, n, i, one = 1, hlen;
	ssize_t blen, r;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: yardstick PORT FILE\n");
		return 2;
	}
	if ((f = fopen(argv[2], "rb")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	hlen = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nServer: yardstick\r\n"
	    "Content-Type: text/html\r\n");
	blen = (ssize_t)fread(buf, 1, sizeof(buf), f);
	fclose(f);
	hlen += snprintf(resp + hlen, sizeof(resp) - (size_t)hlen,
	    "Content-Length: %zd\r\n\r\n", blen);
	memcpy(resp + hlen, buf, (size_t)blen);
	hlen += (int)blen;

	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 4096) < 0) {
		perror("bind/listen");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		n = epoll_wait(ep, evs, 256, -1);
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (fd == lfd) {
				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					ev.events = EPOLLIN;
					ev.data.fd = fd;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			r = read(fd, buf, sizeof(buf));
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				close(fd);
				continue;
			}
			if (r >= 4 && memcmp(buf + r - 4, "\r\n\r\n", 4) == 0 &&
			    write(fd, resp, (size_t)hlen) != hlen)
				close(fd);
		}
	}
}
