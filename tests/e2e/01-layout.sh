#!/usr/bin/env bash
# The folder rules of the README's layout table: a folder includes only the
# folders it may use (its own, and those listed for it), so no file outside
# server/ includes server/, none outside client/ includes client/, and so on.
set -u
cd "$(dirname "$0")/../.."
declare -A uses=(
	[proto]=""
	[io]=""
	[app]="proto"
	[tcp]="proto"
	[stall]="tcp io proto cmd"
	[analyzer]="tcp stall io proto cmd"
	[server]="proto app io cmd"
	[client]="proto app io cmd"
	[replay]="proto app io tcp cmd"
)
# cmd/ may use all; a subcommand's folder may use cmd/ for the door
# (commands.h), the shared option parsers (opts.h), the exit statuses
# (exit.h) and the version lines (version.h) only.
bad=0
for dir in "${!uses[@]}"; do
	for f in "$dir"/*.c "$dir"/*.h; do
		[ -e "$f" ] || continue
		while IFS= read -r inc; do
			top=${inc%%/*}
			[ "$top" = "$inc" ] && continue          # "jmsg.h", "jmsg_spec.h": proto and spec
			[ "$top" = "$dir" ] && continue
			case " ${uses[$dir]} " in *" $top "*) ;; *)
				echo "FAIL: $f includes $inc: $dir/ may use only: ${uses[$dir]:-nothing of ours}"
				bad=$((bad + 1)) ;;
			esac
			if [ "$top" = cmd ] && [ "$inc" != cmd/commands.h ] && [ "$inc" != cmd/opts.h ] &&
				[ "$inc" != cmd/exit.h ] && [ "$inc" != cmd/version.h ]; then
				echo "FAIL: $f includes $inc: only cmd/commands.h, cmd/opts.h, cmd/exit.h and cmd/version.h are shared"
				bad=$((bad + 1))
			fi
		done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
	done
done
[ $bad -eq 0 ] || exit 1
echo "ok: every folder includes only what the layout table lets it use"
