/*
 * router.h - from a parsed request to a filled response: method check, path
 * normalisation (no request can climb out of a docroot), route lookup and the
 * handler call.
 */
#ifndef LF_ROUTER_H
#define LF_ROUTER_H

#include "handlers.h"

void router_dispatch(const struct server *srv, const struct http_request *req,
    struct response *resp);

#endif
