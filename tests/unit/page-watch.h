/*
 * Which pages of a packet-socket mapping the process accesses between
 * page_watch_start() and page_watch_stop(): the first mapping made
 * meanwhile (of at most PAGE_WATCH_MAX pages) is made inaccessible, and
 * the first access to each page, then its first write, traps here.  Only
 * test-ring-touch links it, whose mmap() it then interposes.  For one
 * thread; the kernel's own writes to the ring do not trap (a system call
 * that copies into a page still inaccessible fails with EFAULT instead).
 */
#ifndef page_watch_h
#define page_watch_h

#define PAGE_WATCH_MAX	16384

struct page_watch {
	unsigned int mappings;	/* packet-socket mappings made */
	unsigned long pages;	/* of the first */
	unsigned long read;	/* pages accessed, read only */
	unsigned long written;	/* pages written */
};

void	page_watch_start(void);
void	page_watch_stop(struct page_watch *);

#endif
