package store

import (
	"container/list"
	"errors"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/archivd/archivd/internal/datadir"
)

// fdCache keeps up to max files open, least recently used closed first.
// A handle in use is closed only when its last user releases it, so an
// eviction never pulls a descriptor from under a read or write.
type fdCache struct {
	max int

	mu    sync.Mutex
	lru   *list.List // of *handle, front = most recent
	byKey map[fdKey]*handle
}

type fdKey struct {
	ts   *torrentState
	file int
}

type handle struct {
	key     fdKey
	f       *os.File
	refs    int
	evicted bool
	elem    *list.Element
}

func newFDCache(max int) *fdCache {
	return &fdCache{max: max, lru: list.New(), byKey: map[fdKey]*handle{}}
}

// get returns an open handle for a file of a torrent; release it after use.
// With create, the file (and its directories) are created when missing and
// created lists directories whose entries changed. A cached descriptor
// whose file has been unlinked (deleted, or replaced by a rename over it)
// is dropped and the path opened again: reads and writes never go to a
// file that is no longer in the tree.
func (c *fdCache) get(ts *torrentState, fe *fileEntry, create bool) (h *handle, created []string, err error) {
	key := fdKey{ts, fe.index}
	c.mu.Lock()
	if h := c.byKey[key]; h != nil {
		h.refs++
		c.lru.MoveToFront(h.elem)
		c.mu.Unlock()
		// The fstat runs outside the lock: every read and write of every
		// torrent comes through here.
		if !unlinked(h.f) {
			return h, nil, nil
		}
		c.mu.Lock()
		if c.byKey[key] == h { // not dropped or evicted meanwhile
			c.dropLocked(h)
		}
		fe.gen.Add(1) // whoever dropped it: the file left the tree
		c.mu.Unlock()
		c.release(h)
	} else {
		c.mu.Unlock()
	}
	f, created, err := openIn(ts, fe.rel, openMode(create))
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.byKey[key]; h != nil { // opened concurrently: keep the first
		f.Close()
		h.refs++
		c.lru.MoveToFront(h.elem)
		return h, created, nil
	}
	h = &handle{key: key, f: f, refs: 1}
	h.elem = c.lru.PushFront(h)
	c.byKey[key] = h
	c.evictLocked()
	return h, created, nil
}

func (c *fdCache) release(h *handle) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h.refs--
	if h.evicted && h.refs == 0 {
		h.f.Close()
	}
}

func (c *fdCache) evictLocked() {
	for e := c.lru.Back(); e != nil && c.lru.Len() > c.max; {
		prev := e.Prev()
		c.dropLocked(e.Value.(*handle))
		e = prev
	}
}

func (c *fdCache) dropLocked(h *handle) {
	c.lru.Remove(h.elem)
	delete(c.byKey, h.key)
	h.evicted = true
	if h.refs == 0 {
		h.f.Close()
	}
}

// openMode: the store opens read-write even to read, so that one cached
// descriptor serves reads and writes.
func openMode(create bool) datadir.Mode {
	if create {
		return datadir.CreateInside
	}
	return datadir.ReadWrite
}

// openIn opens a file of the torrent. With CreateInside, a missing data
// directory is made only for a torrent that never had data there
// (mayRecreateDir); otherwise the error wraps datadir.ErrDataDirMissing
// and the seeder marks the torrent unavailable.
func openIn(ts *torrentState, rel string, m datadir.Mode) (*os.File, []string, error) {
	f, created, err := datadir.OpenFile(ts.dataDir, rel, m)
	if errors.Is(err, datadir.ErrDataDirMissing) && ts.mayRecreateDir() {
		f, created, err = datadir.OpenFile(ts.dataDir, rel, datadir.Create)
	}
	if err == nil {
		ts.dirSeen.Store(true)
	}
	return f, created, err
}

// unlinked reports whether f's file has no name left (fstat link count 0).
func unlinked(f *os.File) bool {
	var st unix.Stat_t
	return unix.Fstat(int(f.Fd()), &st) == nil && st.Nlink == 0
}

// forget drops the cached descriptor of a file, if any, so that the next
// use opens its path again, and counts a new generation of the file.
func (c *fdCache) forget(ts *torrentState, fe *fileEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.byKey[fdKey{ts, fe.index}]; h != nil {
		c.dropLocked(h)
	}
	fe.gen.Add(1)
}

// drop drops the cached descriptor of a file, if any, so that the next
// use opens its path again. Unlike forget it counts a new generation only
// when the descriptor was no longer the file at its path (deleted,
// replaced or moved away): the pieces written through it are then not
// recorded complete, while pieces sharing a file that is still in place
// (a neighbour of a piece marked not complete) keep their write.
func (c *fdCache) drop(ts *torrentState, fe *fileEntry) {
	c.mu.Lock()
	h := c.byKey[fdKey{ts, fe.index}]
	if h == nil {
		c.mu.Unlock()
		return
	}
	h.refs++ // kept open for the check below
	c.dropLocked(h)
	c.mu.Unlock()
	moved := unlinked(h.f) || atPath(ts, fe, h.f) != nil
	c.release(h)
	if moved {
		fe.gen.Add(1)
	}
}

// closeTorrent closes every file of a torrent (when it is dropped).
func (c *fdCache) closeTorrent(ts *torrentState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.lru.Front(); e != nil; {
		next := e.Next()
		if h := e.Value.(*handle); h.key.ts == ts {
			c.dropLocked(h)
		}
		e = next
	}
}

// closeAll closes every file.
func (c *fdCache) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.lru.Front(); e != nil; {
		next := e.Next()
		c.dropLocked(e.Value.(*handle))
		e = next
	}
}
