/*
 * pcap_floor: the floor for reading a capture.  A bare libpcap loop that
 * only counts packets and bytes: no parsing, no reassembly, no decoding.
 * bench/analyze.sh compares jmsg analyze against this.
 *
 *   pcap_floor FILE
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

struct count {
	uint64_t packets, bytes, sum;
};

static void on_packet(u_char *u, const struct pcap_pkthdr *h, const u_char *p)
{
	struct count *c = (struct count *)u;
	c->packets++;
	c->bytes += h->caplen;
	/* Touch the frame so the loop cannot be cheaper than any reader. */
	if (h->caplen)
		c->sum += p[0] + p[h->caplen - 1];
}

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	if (argc != 2) {
		fprintf(stderr, "usage: pcap_floor FILE\n");
		return 2;
	}
	pcap_t *p = pcap_open_offline(argv[1], err);
	if (!p) {
		fprintf(stderr, "pcap_floor: %s\n", err);
		return 1;
	}
	struct count c = {0, 0, 0};
	if (pcap_loop(p, -1, on_packet, (u_char *)&c) == -1) {
		fprintf(stderr, "pcap_floor: %s\n", pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	pcap_close(p);
	printf("%llu packets, %llu bytes (checksum %llu)\n", (unsigned long long)c.packets,
	       (unsigned long long)c.bytes, (unsigned long long)c.sum);
	return 0;
}
