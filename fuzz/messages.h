/*
 * For the fuzz targets that check bytes jmsg itself writes or keeps (the
 * server's answers, replay's messages): what the codec makes of them.
 */
#ifndef JM_FUZZ_MESSAGES_H
#define JM_FUZZ_MESSAGES_H

#include <stdbool.h>
#include <stdio.h>

#include "jmsg.h"

typedef struct fz_messages {
	size_t messages;   /* MESSAGE events */
	size_t errors;     /* errors that stop the codec */
	size_t warnings;   /* errors it goes on after (can_continue) */
	bool whole;        /* the bytes end at a message boundary */
	char first[256];   /* the first error or warning: "id: detail" */
} fz_messages;

static int fz_on_event(void *user, const jm_event *ev)
{
	fz_messages *r = user;
	if (ev->type == JM_EV_MESSAGE)
		r->messages++;
	if (ev->type != JM_EV_ERROR)
		return JM_CB_OK;
	if (!r->errors && !r->warnings)
		snprintf(r->first, sizeof r->first, "%s: %s", jm_error_id(ev->error), ev->detail);
	if (ev->can_continue)
		r->warnings++;
	else
		r->errors++;
	return JM_CB_OK;
}

/* Decodes p[0..n) whole, with the codec's default limits. */
static fz_messages fz_decode(const uint8_t *p, size_t n)
{
	fz_messages r = {0};
	jm_decoder d;
	jm_decoder_config dc = {0};
	jm_decoder_init(&d, &dc, fz_on_event, &r);
	jm_decoder_feed(&d, p, n);
	r.whole = jm_decoder_finish(&d);
	jm_decoder_free(&d);
	return r;
}

#endif
