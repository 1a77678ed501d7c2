#!/usr/bin/env python3
"""The man page and the binary agree: every subcommand `jmsg --help` lists
has a section in the man page (.SH NAME in capitals), every option its
--help lists is a .TP tag in that section and every .TP tag there is an
option its --help lists (as an option line, or in a heading such as
"load mode (--load):"; -h and --help aside: every subcommand takes them,
not every help lists them), and the exit codes its --help names are the
ones the section's "Exit status:" paragraph names.

    man_options.py JMSG docs/jmsg.1
    man_options.py --help-options JMSG COMMAND   (the options, one a line)

Prints one line per difference and exits 1 if there is any, else prints
what it compared and exits 0.
"""
import re
import subprocess
import sys

# An option at the start of a help line: "  -q, --quiet", "  --port P".
HELP_OPT = re.compile(r"^ {2,}(-[A-Za-z]|--[a-z][-a-z]*)(?:,? +(--[a-z][-a-z]*))?")
# A heading naming the option that starts a mode: "load mode (--load):".
HEAD_OPT = re.compile(r"^\S.*\((--[a-z][-a-z]*)\):")
OPT = re.compile(r"(?<![\w-])(--?[A-Za-z][-a-z]*)")
DIGIT = re.compile(r"(?<![\w.])(\d)(?![\w.])")
ALWAYS = {"-h", "--help"}


def run(*argv):
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def commands(jmsg):
    out = run(jmsg, "--help")
    body = out.split("commands:\n", 1)[1]
    return [m.group(1) for m in re.finditer(r"^  ([a-z]+) ", body, re.M)]


def help_options(text):
    opts = set()
    for line in text.splitlines():
        m = HELP_OPT.match(line) or HEAD_OPT.match(line)
        if m:
            opts.update(o for o in m.groups() if o)
    return opts


def exit_codes(text):
    """The digits of the paragraph that starts with "exit status:"."""
    m = re.search(r"exit status:(.*?)(?:\n\s*\n|\Z)", text, re.S | re.I)
    return set(DIGIT.findall(m.group(1))) if m else set()


def plain(roff):
    """Roff text to plain text: escapes and font requests gone."""
    text = roff.replace("\\-", "-").replace("\\(en", "-")
    text = re.sub(r"\\f[BIRP]", "", text)
    text = re.sub(r"^\.(?:B|I|BI|IB|BR|RB|IR|RI) ", "", text, flags=re.M)
    return text.replace('"', "")


def man_sections(path):
    sections, name = {}, None
    for line in open(path, encoding="utf-8"):
        m = re.match(r'^\.SH "?([^"\n]+)"?', line)
        if m:
            name = m.group(1).strip()
            sections[name] = []
        elif name:
            sections[name].append(line.rstrip("\n"))
    return sections


def man_options(lines):
    opts = set()
    for i, line in enumerate(lines[:-1]):
        if line.strip() == ".TP":
            opts.update(OPT.findall(plain(lines[i + 1])))
    return opts


def main():
    if sys.argv[1] == "--help-options":
        print("\n".join(sorted(help_options(run(sys.argv[2], sys.argv[3], "--help")) | ALWAYS)))
        return 0
    jmsg, page = sys.argv[1], sys.argv[2]
    sections = man_sections(page)
    bad = []
    cmds = commands(jmsg)
    for cmd in cmds:
        lines = sections.get(cmd.upper())
        if lines is None:
            bad.append(f"{page}: no section .SH {cmd.upper()} for 'jmsg {cmd}'")
            continue
        help_text = run(jmsg, cmd, "--help")
        want, have = help_options(help_text) - ALWAYS, man_options(lines) - ALWAYS
        for o in sorted(want - have):
            bad.append(f"{page}: .SH {cmd.upper()} lacks {o}, which 'jmsg {cmd} --help' lists")
        for o in sorted(have - want):
            bad.append(f"{page}: .SH {cmd.upper()} has {o}, which 'jmsg {cmd} --help' does not list")
        hcodes, mcodes = exit_codes(help_text), exit_codes(plain("\n".join(lines)))
        if not hcodes or hcodes != mcodes:
            bad.append(f"{page}: .SH {cmd.upper()} names exit codes {sorted(mcodes)}, "
                       f"'jmsg {cmd} --help' {sorted(hcodes)}")
        print(f"jmsg {cmd}: {len(want)} options, exit codes {','.join(sorted(hcodes))}")
    for line in bad:
        print("FAIL:", line)
    if not bad:
        print(f"ok: {page} lists every option and exit code of {len(cmds)} subcommands' --help, "
              "and no other")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
