package lake

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Staging directories are named run-<pid>-<unix nanoseconds>: a directory
// whose process is gone holds the leftovers of a crash (kill -9, ENOSPC
// mid-write) and nothing else can still be writing there.

// NewStagingDir creates this process's staging directory under parent.
func NewStagingDir(parent string) (string, error) {
	dir := filepath.Join(parent, fmt.Sprintf("run-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create staging dir: %w", err)
	}
	return dir, nil
}

// CleanStaging removes the staging directories of dead processes under
// parent, and loose files from before run directories existed. It returns
// how many entries it removed.
func CleanStaging(parent string) (int, error) {
	ents, err := os.ReadDir(parent)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read staging dir: %w", err)
	}
	removed := 0
	for _, e := range ents {
		if e.IsDir() && alive(e.Name()) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(parent, e.Name())); err != nil {
			return removed, fmt.Errorf("remove staging leftover %s: %w", e.Name(), err)
		}
		removed++
	}
	return removed, nil
}

// processStart tells this process's run directories from those of an
// earlier process that had the same pid (pid 1 in every container restart).
// Set once at start, never written again.
var processStart = time.Now().UnixNano()

// alive reports whether the run directory's process still exists. A name
// that is not a run directory counts as dead.
func alive(name string) bool {
	rest, ok := strings.CutPrefix(name, "run-")
	if !ok {
		return false
	}
	pidStr, nanoStr, _ := strings.Cut(rest, "-")
	pid, err := strconv.Atoi(pidStr)
	if err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		nanos, err := strconv.ParseInt(nanoStr, 10, 64)
		return err == nil && nanos >= processStart
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
