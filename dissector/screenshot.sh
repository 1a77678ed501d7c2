#!/usr/bin/env bash
# Makes docs/wireshark.png: Wireshark itself (Debian's wireshark-qt) under
# Xvfb, a capture decoded by the generated dissector, one message's tree
# expanded.  Needs xvfb, wireshark, xdotool, imagemagick; the emoji in the
# tutorial's answers need fonts-noto-color-emoji to show.
#
#   dissector/screenshot.sh [CAPTURE [FRAME [OUT.png]]]
#   (BUILD=build; defaults: tests/fixtures/live-keepalive.pcap, frame 6)
set -u
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
cap=${1:-tests/fixtures/live-keepalive.pcap}
frame=${2:-6}
out=${3:-docs/wireshark.png}
for c in Xvfb wireshark xdotool import convert; do
	command -v $c >/dev/null || { echo "dissector/screenshot.sh: $c is not installed" >&2; exit 1; }
done
[ -f "$BUILD/jmsg.lua" ] || { echo "dissector/screenshot.sh: $BUILD/jmsg.lua is not built" >&2; exit 1; }
tmp=$(mktemp -d)
xvfb= ws=
cleanup() {
	[ -n "$ws" ] && kill "$ws" 2>/dev/null
	[ -n "$xvfb" ] && kill "$xvfb" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/home" "$tmp/cfg"
# Window geometry and pane sizes come from Wireshark's "recent" file.
printf '%s\n' "gui.geometry_main_x: 0" "gui.geometry_main_y: 0" "gui.geometry_main_width: 1600" \
	"gui.geometry_main_height: 1000" "gui.geometry_main_maximized: FALSE" >"$tmp/cfg/recent_common"
{ cat "$tmp/cfg/recent_common"; echo "gui.geometry_main_upper_pane: 330"; } >"$tmp/cfg/recent"

display=:$((50 + RANDOM % 40))
Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
xvfb=$!
sleep 2
DISPLAY=$display HOME="$tmp/home" WIRESHARK_CONFIG_DIR="$tmp/cfg" \
	wireshark -r "$cap" -X "lua_script:$BUILD/jmsg.lua" -g "$frame" >"$tmp/ws.log" 2>&1 &
ws=$!
sleep 12
export DISPLAY=$display
# The packet details pane: the fifth row is the message; expand its subtrees.
xdotool mousemove 200 501 click 1
sleep 0.5
xdotool key shift+Right
sleep 1
xdotool mousemove 1500 960
sleep 0.5
import -window root "$tmp/shot.png"
# A 256-colour palette keeps a UI screenshot sharp at a third of the size.
convert "$tmp/shot.png" -dither None -colors 256 "PNG8:$out"
echo "wrote $out ($(stat -c %s "$out") bytes)"
