package scrub

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"syscall"
)

// Mapper is implemented by readers that can map file ranges: the hashers
// then hash the page cache directly instead of a copy, which on data in
// memory roughly halves the CPU per byte.
type Mapper interface {
	Map(off, n int64) (data []byte, release func(), err error)
}

var errPastEOF = errors.New("range past end of file")

// Map maps n bytes at off. MAP_POPULATE makes the kernel fault the whole
// window in here, sequentially, in the reader goroutine, so the hashers
// only hash. A range past the end is refused (touching it would fault):
// the caller falls back to reads, which report the short file precisely.
func (f osFile) Map(off, n int64) ([]byte, func(), error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() || off+n > fi.Size() {
		return nil, nil, errPastEOF
	}
	page := int64(os.Getpagesize())
	start := off &^ (page - 1)
	m, err := syscall.Mmap(int(f.Fd()), start, int(off-start+n), syscall.PROT_READ, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	if err != nil {
		return nil, nil, err
	}
	return m[off-start:], func() { _ = syscall.Munmap(m) }, nil
}

// hashGuarded runs hash over mapped memory with faults turned into an
// error: a file truncated after it was mapped, or a disk error on a page
// not yet read, raises SIGBUS, which must be a finding, not a crash.
func hashGuarded(hash func()) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("fault reading mapped data (file shrank or I/O error): %v", r)
		}
	}()
	hash()
	return nil
}
