/*
 * request: the bytes of the requests the tutorial's client sends.
 */
#ifndef JM_APP_REQUEST_H
#define JM_APP_REQUEST_H

#include <stdbool.h>

#include "jmsg.h"

/* Append the request the tutorial's client sends for ACTION VALUE: "search"
 * is text/json {"action": "search", "value": V}; any other action is
 * binary/custom-client-binary-type whose content is ACTION then VALUE.
 * With keep_alive the header also asks to keep the connection. */
int app_build_request(jm_buf *out, const char *action, const char *value, bool keep_alive);

#endif
