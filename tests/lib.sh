# Shell helpers the test scripts share.  Scripts run from the repository's
# root (they cd there first) and source it as:  . tests/lib.sh

# cap_denied FILE: the analyzer's start-up error in FILE says it may not
# capture (tcp/capture.c: pcap_activate's PCAP_ERROR_PERM_DENIED, or
# libpcap's EPERM/EACCES text).  A capture test skips on this, and only on
# this: any other start-up failure is a failure.
cap_denied() {
	grep -qE "^jmsg analyze: (capturing on '[^']*' needs the CAP_NET_RAW capability|cannot capture on '[^']*': .*(Operation not permitted|Permission denied))" "$1"
}
