/* jmsg-gen: spec/jmsg.json and spec/framings/ -> generated sources.
 *
 *   jmsg-gen check SPEC
 *   jmsg-gen c     SPEC OUT.h OUT.c
 *   jmsg-gen lua   SPEC TEMPLATE.lua.in OUT.lua
 *   jmsg-gen framing-check FRAMING.json...
 *   jmsg-gen framing-lua SPEC FRAMING.json TEMPLATE.lua.in OUT.lua
 *   jmsg-gen framings-c OUT.c FRAMING.json...
 *
 * lua copies TEMPLATE (dissector/jmsg.lua.in) to OUT with the spec's tables
 * written in place of its marker line (emit_lua.c); framing-lua does the
 * same for one framing file with dissector/framing.lua.in (emit_framing.c).
 * Framing files are loaded and checked by proto/framing_file.c, the loader
 * the program itself uses for --framing FILE.
 *
 * Exit status: 0 written (or checked), 1 a spec, framing file or Lua
 * template is invalid or a file could not be read or written, 2 usage. */
#include "model.h"
#include "framing.h"

#include <string.h>

static int usage(void)
{
	fprintf(stderr, "usage: jmsg-gen check SPEC\n"
			"       jmsg-gen c SPEC OUT.h OUT.c\n"
			"       jmsg-gen lua SPEC TEMPLATE.lua.in OUT.lua\n"
			"       jmsg-gen framing-check FRAMING.json...\n"
			"       jmsg-gen framing-lua SPEC FRAMING.json TEMPLATE.lua.in OUT.lua\n"
			"       jmsg-gen framings-c OUT.c FRAMING.json...\n");
	return 2;
}

static int framing_check(int n, char **paths)
{
	int rc = 0;
	for (int i = 0; i < n; i++) {
		jmf_framing f;
		if (jmf_load_file(&f, paths[i], stderr))
			rc = 1;
	}
	return rc;
}

static int framing_lua(char **argv)
{
	struct spec s;
	jmf_framing f;
	if (spec_load(&s, argv[2], stderr))
		return 1;
	int rc = jmf_load_file(&f, argv[3], stderr) || emit_framing_lua(&s, &f, argv[4], argv[5]);
	spec_free(&s);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	const char *mode = argv[1];
	if (!strcmp(mode, "framing-check"))
		return framing_check(argc - 2, argv + 2);
	if (!strcmp(mode, "framings-c"))
		return emit_framings_c(argc - 3, argv + 3, argv[2]) ? 1 : 0;
	if (!strcmp(mode, "framing-lua"))
		return argc == 6 ? framing_lua(argv) : usage();
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
