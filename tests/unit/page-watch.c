/* See page-watch.h. */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "bed.h"
#include "page-watch.h"

/* The symbol callers built with large-file offsets reach on 32-bit. */
#if !defined(__LP64__) && defined(_FILE_OFFSET_BITS) && _FILE_OFFSET_BITS == 64
#define MMAP_SYMBOL	"mmap64"
#else
#define MMAP_SYMBOL	"mmap"
#endif

enum page_access { PAGE_UNTOUCHED, PAGE_READ, PAGE_WRITTEN };

static void *(*next_mmap)(void *, size_t, int, int, int, off_t);

static struct {
	volatile sig_atomic_t armed;
	unsigned int mappings;
	unsigned char *base;
	size_t len, page;
	unsigned char access[PAGE_WATCH_MAX];
	struct sigaction old;
} watch;

/* A page first gets reading, and writing once written. */
static void
watch_fault(int sig, siginfo_t *si, void *uc)
{
	unsigned char *addr = si->si_addr;
	size_t i;

	(void)sig;
	(void)uc;
	if (watch.base == NULL || addr < watch.base ||
	    addr >= watch.base + watch.len) {
		/* Not ours: the access faults again, as it would have. */
		sigaction(SIGSEGV, &watch.old, NULL);
		return;
	}
	i = (size_t)(addr - watch.base) / watch.page;
	if (watch.access[i] == PAGE_UNTOUCHED) {
		watch.access[i] = PAGE_READ;
		mprotect(watch.base + i * watch.page, watch.page, PROT_READ);
	} else {
		watch.access[i] = PAGE_WRITTEN;
		mprotect(watch.base + i * watch.page, watch.page,
		    PROT_READ | PROT_WRITE);
	}
}

void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *map;
	int saved_errno, domain;
	socklen_t domain_len = sizeof(domain);

	if (next_mmap == NULL)
		next_mmap = (void *(*)(void *, size_t, int, int, int, off_t))
		    dlsym(RTLD_NEXT, MMAP_SYMBOL);
	map = next_mmap(addr, len, prot, flags, fd, off);
	saved_errno = errno;
	if (map == MAP_FAILED || !watch.armed || fd < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &domain_len) != 0 ||
	    domain != AF_PACKET) {
		errno = saved_errno;
		return map;
	}
	if (watch.mappings++ == 0 && len / watch.page <= PAGE_WATCH_MAX) {
		watch.base = map;
		watch.len = len;
		if (mprotect(map, len, PROT_NONE) != 0)
			bed_fatal("mprotect: %s", strerror(errno));
	}
	errno = saved_errno;
	return map;
}

void
page_watch_start(void)
{
	struct sigaction sa;

	memset(&watch, 0, sizeof(watch));
	watch.page = (size_t)sysconf(_SC_PAGESIZE);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = watch_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &watch.old) != 0)
		bed_fatal("sigaction: %s", strerror(errno));
	watch.armed = 1;
}

void
page_watch_stop(struct page_watch *w)
{
	size_t i;

	watch.armed = 0;
	memset(w, 0, sizeof(*w));
	w->mappings = watch.mappings;
	if (watch.base != NULL) {
		w->pages = watch.len / watch.page;
		for (i = 0; i < w->pages; i++) {
			w->read += watch.access[i] == PAGE_READ;
			w->written += watch.access[i] == PAGE_WRITTEN;
		}
		if (mprotect(watch.base, watch.len, PROT_READ | PROT_WRITE) != 0)
			bed_fatal("mprotect: %s", strerror(errno));
	}
	sigaction(SIGSEGV, &watch.old, NULL);
	watch.base = NULL;
}
