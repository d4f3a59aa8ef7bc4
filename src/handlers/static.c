/*
 * static.c - the in-memory GET workload: files of the docroot, loaded at
 * start and at reload (docroot.c), or the built-in page.
 */
#include "config.h"

#include "docroot.h"
#include "handlers.h"

/* PATH is already relative to the route (the router strips the route's prefix). */
void
handler_static(const struct server *srv, const struct route *rt,
    const struct http_request *req, const char *path, size_t path_len,
    struct response *resp)
{
	const struct docroot_file *f;

	f = docroot_lookup(server_docroot(srv, rt), path, path_len);
	if (f == NULL) {
		resp->status = 404;
		return;
	}
	resp->status = 200;
	resp->content_type = f->content_type;
	resp->body = f->data;
	resp->body_len = f->len;
}
