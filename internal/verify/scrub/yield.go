package scrub

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// Linux I/O priority (ioprio_set(2)): class in the top bits of the value.
const (
	ioprioWhoProcess = 1 // with a thread id: that thread only
	ioprioClassIdle  = 3
	ioprioClassShift = 13
	// niceBackground is the nice value of a background scrub's threads.
	niceBackground = 19
)

// yieldThread pins the calling goroutine to its OS thread for the rest of
// its life and makes that thread yield to everything else on the machine:
// the idle I/O class (its reads are served when no one else's wait) and
// nice 19 (CPU goes to other threads first, such as the seeder's). The
// goroutine must exit without unlocking: Go then ends the thread, so the
// low priority never passes to another goroutine. Best effort: a kernel
// that refuses keeps the thread at normal priority.
func yieldThread() {
	runtime.LockOSThread()
	tid := unix.Gettid()
	_, _, _ = unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(tid), ioprioClassIdle<<ioprioClassShift)
	_ = unix.Setpriority(unix.PRIO_PROCESS, tid, niceBackground)
}
