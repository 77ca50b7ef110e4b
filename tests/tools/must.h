/*
 * For test programs: a libpcap setter whose failure is a bug in the test.
 * libpcap after 1.10 marks the setters warn_unused_result, and a setter
 * that failed unnoticed would test something other than what it says.
 */
#ifndef must_h
#define must_h

#include <stdio.h>
#include <stdlib.h>
#include <pcap/pcap.h>

static inline void
must_succeed(int status, const char *call)
{
	if (status != 0) {
		printf("FAIL: %s returned %d (%s)\n", call, status,
		    pcap_statustostr(status));
		fflush(stdout);
		exit(1);
	}
}

#define MUST(call)	must_succeed((call), #call)

#endif
