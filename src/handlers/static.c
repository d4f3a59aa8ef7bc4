/*
 * static.c - the in-memory GET workload: files of the docroot, loaded at
 * start and at reload (docroot.c), or the built-in page.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "docroot.h"
#include "handlers.h"

/* If-None-Match: "*" or a comma-separated list of tags (weak ones compare too). */
static bool
etag_listed(const char *v, size_t len, const char *etag)
{
	size_t elen = strlen(etag), i = 0, start;

	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < len && v[i] != ',')
			i++;
		if (i - start == 1 && v[start] == '*')
			return true;
		if (i - start >= 2 && v[start] == 'W' && v[start + 1] == '/')
			start += 2;
		while (i > start && (v[i - 1] == ' ' || v[i - 1] == '\t'))
			i--;
		if (i - start == elen && memcmp(v + start, etag, elen) == 0)
			return true;
		while (i < len && v[i] != ',')
			i++;
	}
	return false;
}

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
	/* RFC 9110 13.2.2: If-Match first; docroot files have no modification
	 * date here, so If-Unmodified-Since is ignored (13.1.4) */
	if (req->if_match != NULL && !http_if_match(req->if_match,
	    req->if_match_len, f->etag)) {
		resp->status = 412;
		return;
	}
	if (f->etag[0] != '\0') {
		resp->etag = f->etag;
		/* a client holding this exact version gets 304 and no body */
		if (req->if_none_match != NULL && etag_listed(req->if_none_match,
		    req->if_none_match_len, f->etag)) {
			resp->status = 304;
			return;
		}
	}
	resp->status = 200;
	resp->content_type = f->content_type;
	resp->body = f->data;
	resp->body_len = f->len;
}
