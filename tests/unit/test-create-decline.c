/*
 * pcap_create() consults pcap-ring, which claims "ring:<ifname>" and
 * declines what it does not capture, and PCAP_RING_DISABLE keeps it out.
 * Needs no privileges: nothing is activated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

static int failures;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		failures++; \
		printf("FAIL %s:%d: ", __FILE__, __LINE__); \
		printf(__VA_ARGS__); \
		printf("\n"); \
	} \
} while (0)

/* The error pcap_create() gives, or "" when it returns a handle. */
static const char *
create_error(const char *device)
{
	static char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p;

	errbuf[0] = '\0';
	p = pcap_create(device, errbuf);
	if (p != NULL) {
		pcap_close(p);
		return "";
	}
	return errbuf;
}

int
main(void)
{
	const char *err;

	unsetenv("PCAP_RING_DISABLE");
	/* "lo" exists in every network namespace. */
	err = create_error("ring:lo");
	CHECK(err[0] == '\0', "ring:lo: %s", err);

	err = create_error("ring:any");
	CHECK(strstr(err, "ring:any") != NULL && strstr(err, "\"any\"") != NULL,
	    "ring:any gave \"%s\"", err);

	err = create_error("ring:pcapring-none0");
	CHECK(strstr(err, "ring:pcapring-none0") != NULL &&
	    strstr(err, "no such interface") != NULL,
	    "ring:pcapring-none0 gave \"%s\"", err);

	err = create_error("ring:");
	CHECK(strstr(err, "not an interface name") != NULL,
	    "ring: gave \"%s\"", err);

	/* Declined names go to stock pcap-linux, whose create always succeeds. */
	err = create_error("pcapring-none0");
	CHECK(err[0] == '\0', "pcapring-none0: %s", err);
	err = create_error("any");
	CHECK(err[0] == '\0', "any: %s", err);

	/* Disabled, the module is not consulted: stock takes "ring:..." too. */
	setenv("PCAP_RING_DISABLE", "1", 1);
	err = create_error("ring:pcapring-none0");
	CHECK(err[0] == '\0', "disabled, ring:pcapring-none0 gave \"%s\"", err);
	setenv("PCAP_RING_DISABLE", "0", 1);
	err = create_error("ring:pcapring-none0");
	CHECK(err[0] != '\0', "PCAP_RING_DISABLE=0 disabled the module");

	if (failures == 0)
		printf("ok\n");
	return failures != 0;
}
