/*
 * Deterministic test frames; see frames.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "frames.h"
#include "must.h"

#define ETH_HLEN	14
#define IP_HLEN		20
#define UDP_HLEN	8
#define TCP_HLEN	20

static const uint8_t dst_mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x02 };
static const uint8_t src_mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };

size_t
frame_len(uint32_t i, size_t min_len, size_t max_len)
{
	if (max_len <= min_len)
		return min_len;
	/* A stride co-prime with most ranges walks all sizes, ends included. */
	return min_len + (size_t)((uint64_t)i * 7919u % (max_len - min_len + 1));
}

static void
put16(uint8_t *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, 2);
}

static void
put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static uint16_t
get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return ntohs(v);
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

static uint16_t
checksum(const uint8_t *p, size_t len, uint32_t sum)
{
	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint8_t
fill_byte(uint32_t seq, size_t k)
{
	return (uint8_t)(seq * 31u + k);
}

/* The kind of frame i: 0-3 UDP, 4 TCP, 5 802.1Q UDP, 6 802.1ad+802.1Q TCP, 7 ARP. */
static unsigned int
frame_kind(uint32_t i, enum frame_mix mix)
{
	return mix == MIX_UDP ? 0 : i % 8;
}

size_t
frame_build(uint8_t *buf, uint32_t i, size_t len, enum frame_mix mix)
{
	unsigned int kind = frame_kind(i, mix);
	size_t off = 12, l4, payload, k, need;
	int tcp = kind == 4 || kind == 6;

	need = 12 + (kind == 6 ? 8 : kind == 5 ? 4 : 0) + 2 +
	    (kind == 7 ? 28 + 4 : IP_HLEN + (tcp ? TCP_HLEN : UDP_HLEN)) + 8;
	if (len < need)
		len = need;
	memset(buf, 0, len);
	memcpy(buf, dst_mac, 6);
	memcpy(buf + 6, src_mac, 6);
	if (kind == 6) {
		put16(buf + off, 0x88a8);
		put16(buf + off + 2, 300 + i % 5);
		off += 4;
	}
	if (kind == 5 || kind == 6) {
		put16(buf + off, 0x8100);
		put16(buf + off + 2, (uint16_t)((i % 8) << 13 | (100 + i % 3)));
		off += 4;
	}
	if (kind == 7) {
		/* ARP request who-has 198.51.100.(i%200+10); the sequence
		 * number and, as ARP has no length field, the frame's length
		 * follow the ARP body. */
		put16(buf + off, 0x0806);
		off += 2;
		put16(buf + off, 1);
		put16(buf + off + 2, 0x0800);
		buf[off + 4] = 6;
		buf[off + 5] = 4;
		put16(buf + off + 6, 1);
		memcpy(buf + off + 8, src_mac, 6);
		put32(buf + off + 14, 0xc6336401);
		put32(buf + off + 24, 0xc633640a + i % 200);
		off += 28;
		put32(buf + off, FRAME_MAGIC);
		put32(buf + off + 4, i);
		put32(buf + off + 8, (uint32_t)len);
		for (k = off + 12; k < len; k++)
			buf[k] = fill_byte(i, k);
		return len;
	}
	put16(buf + off, 0x0800);
	off += 2;

	l4 = off + IP_HLEN;
	payload = l4 + (tcp ? TCP_HLEN : UDP_HLEN);
	buf[off] = 0x45;
	put16(buf + off + 2, (uint16_t)(len - off));
	put16(buf + off + 4, (uint16_t)i);
	buf[off + 8] = 64;
	buf[off + 9] = tcp ? 6 : 17;
	put32(buf + off + 12, 0xc6336401);		/* 198.51.100.1 */
	put32(buf + off + 16, 0xc6336402 + i % 4);	/* .2 - .5 */
	put16(buf + off + 10, checksum(buf + off, IP_HLEN, 0));

	put16(buf + l4, (uint16_t)(1024 + i % 7));
	put16(buf + l4 + 2, (uint16_t)(tcp ? 80 : 5000 + i % 5));
	if (tcp) {
		put32(buf + l4 + 4, i);
		buf[l4 + 12] = 5 << 4;
		buf[l4 + 13] = 0x18;	/* PSH|ACK */
		put16(buf + l4 + 14, 65535);
	} else {
		put16(buf + l4 + 4, (uint16_t)(len - l4));
	}
	put32(buf + payload, FRAME_MAGIC);
	put32(buf + payload + 4, i);
	for (k = payload + 8; k < len; k++)
		buf[k] = fill_byte(i, k);
	return len;
}

int64_t
frame_seq(const uint8_t *buf, size_t caplen, size_t len, int *intact)
{
	size_t off = 12, payload, k, stated;
	uint16_t type;
	uint32_t seq;

	*intact = 0;
	while (off + 2 <= caplen) {
		type = get16(buf + off);
		if (type != 0x8100 && type != 0x88a8)
			break;
		off += 4;
	}
	if (off + 2 > caplen)
		return -1;
	type = get16(buf + off);
	off += 2;
	if (type == 0x0806 && off + 28 + 12 <= caplen) {
		payload = off + 28;
		stated = get32(buf + payload + 8);
		k = payload + 12;
	} else if (type == 0x0800 && off + IP_HLEN <= caplen) {
		payload = off + IP_HLEN + (buf[off + 9] == 6 ? TCP_HLEN : UDP_HLEN);
		stated = off + get16(buf + off + 2);
		k = payload + 8;
	} else {
		return -1;
	}
	if (payload + 8 > caplen || get32(buf + payload) != FRAME_MAGIC)
		return -1;
	seq = get32(buf + payload + 4);
	if (stated != len)
		return seq;
	for (; k < caplen && k < len; k++)
		if (buf[k] != fill_byte(seq, k))
			return seq;
	*intact = 1;
	return seq;
}

int
frame_run_option(struct frame_run *run, int opt, const char *arg)
{
	switch (opt) {
	case 'n':
		run->count = strtoul(arg, NULL, 0);
		return 0;
	case 'f':
		run->first = strtoul(arg, NULL, 0);
		return 0;
	case 'l':
		if (sscanf(arg, "%zu-%zu", &run->min_len, &run->max_len) != 2 ||
		    run->min_len > run->max_len || run->max_len > FRAME_MAX_LEN)
			return -1;
		return 0;
	case 'm':
		if (strcmp(arg, "udp") == 0)
			run->mix = MIX_UDP;
		else if (strcmp(arg, "all") == 0)
			run->mix = MIX_ALL;
		else
			return -1;
		return 0;
	}
	return -1;
}

size_t
frame_run_build(const struct frame_run *run, uint8_t *buf, unsigned long i)
{
	return frame_build(buf, (uint32_t)i,
	    frame_len((uint32_t)i, run->min_len, run->max_len), run->mix);
}

pcap_t *
frame_sender_create(const char *prog, const char *ifname)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_create(ifname, errbuf);

	if (p == NULL) {
		fprintf(stderr, "%s: %s\n", prog, errbuf);
		exit(1);
	}
	/* Capture nothing: the handle only sends. */
	MUST(pcap_set_snaplen(p, 64));
	MUST(pcap_set_buffer_size(p, 256 * 1024));
	return p;
}

long long
clock_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}
