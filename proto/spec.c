/* Lookups over the generated spec tables. */
#include "jmsg.h"

#include <string.h>

const char *jm_error_id(jm_error e)
{
	return (unsigned)e < JM_ERR_COUNT ? jm_error_specs[e].id : "unknown";
}

const char *jm_error_text(jm_error e)
{
	return (unsigned)e < JM_ERR_COUNT ? jm_error_specs[e].text : "unknown error";
}

const char *jm_error_severity(jm_error e)
{
	return (unsigned)e < JM_ERR_COUNT ? jm_error_specs[e].severity : "error";
}

jm_error jm_error_from_id(const char *id)
{
	for (int e = 1; e < JM_ERR_COUNT; e++)
		if (!strcmp(jm_error_specs[e].id, id))
			return (jm_error)e;
	return JM_ERR_NONE;
}
