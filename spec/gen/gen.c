/* jmsg-gen: spec/jmsg.json -> generated sources.
 *
 *   jmsg-gen check SPEC
 *   jmsg-gen c     SPEC OUT.h OUT.c
 *   jmsg-gen lua   SPEC TEMPLATE.lua.in OUT.lua
 *
 * lua copies TEMPLATE (dissector/jmsg.lua.in) to OUT with the spec's tables
 * written in place of its marker line (emit_lua.c).
 *
 * Exit status: 0 written, 1 the spec or the Lua template is invalid or a
 * file could not be read or written, 2 usage. */
#include "model.h"

#include <string.h>

static int usage(void)
{
	fprintf(stderr, "usage: jmsg-gen check SPEC\n"
			"       jmsg-gen c SPEC OUT.h OUT.c\n"
			"       jmsg-gen lua SPEC TEMPLATE.lua.in OUT.lua\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	const char *mode = argv[1];
	if (!(!strcmp(mode, "check") && argc == 3) && !(!strcmp(mode, "c") && argc == 5) &&
	    !(!strcmp(mode, "lua") && argc == 5))
		return usage();
	struct spec s;
	if (spec_load(&s, argv[2], stderr))
		return 1;
	int rc = 0;
	if (!strcmp(mode, "c"))
		rc = emit_c(&s, argv[3], argv[4]);
	else if (!strcmp(mode, "lua"))
		rc = emit_lua(&s, argv[3], argv[4]);
	spec_free(&s);
	return rc ? 1 : 0;
}
