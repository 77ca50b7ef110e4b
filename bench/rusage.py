# rusage.py OUT CMD...: run CMD and write its user+system CPU time, in ns,
# to OUT.  time(1) rounds to 10 ms; wait4() has microseconds.  Like
# time(1), it ignores SIGINT, so that the command alone gets it.
import os
import signal
import sys

signal.signal(signal.SIGINT, signal.SIG_IGN)
pid = os.fork()
if pid == 0:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % round((ru.ru_utime + ru.ru_stime) * 1e9))
sys.exit(os.waitstatus_to_exitcode(status) & 0xff)
