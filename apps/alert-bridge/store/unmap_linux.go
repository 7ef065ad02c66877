package store

import (
	"os"
	"syscall"
	"unsafe"
)

var pageSize = uintptr(os.Getpagesize())

// unmap drops this process's mapping of the whole pages under v, a value
// in bbolt's read-only shared mapping of the file, once it has been copied
// out. The data stays in the page cache (a later read faults it back in);
// only the process's resident set stops counting it, so RSS tracks the Go
// heap rather than every body the deliverer has read.
func unmap(v []byte) {
	if len(v) < 2*int(pageSize) {
		return
	}
	start := uintptr(unsafe.Pointer(&v[0]))
	lo := (start + pageSize - 1) &^ (pageSize - 1)
	hi := (start + uintptr(len(v))) &^ (pageSize - 1)
	if hi <= lo {
		return
	}
	_ = syscall.Madvise(v[lo-start:hi-start], syscall.MADV_DONTNEED)
}
