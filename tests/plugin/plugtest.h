/*
 * The synthetic packets of the test plugin (pcap-plugtest.c), which
 * plugin-probe checks byte for byte.
 */
#ifndef plugtest_h
#define plugtest_h

#include <string.h>
#include <sys/types.h>

#define PLUGTEST_PACKETS	5
/* Packet i is 60 + 10 * i bytes, so that a snapshot length cuts some. */
#define PLUGTEST_MAX_LEN	(60 + 10 * (PLUGTEST_PACKETS - 1))

/* Fill buf with packet index and return its length. */
static inline u_int
plugtest_packet(int index, u_char *buf)
{
	u_int len = 60 + 10 * (u_int)index, i;

	/* Broadcast destination, then bytes that differ per packet. */
	memset(buf, 0xff, 6);
	for (i = 6; i < len; i++)
		buf[i] = (u_char)(index * 31 + i);
	return len;
}

#endif
