package store

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/anacrolix/torrent/storage"

	"github.com/archivd/archivd/internal/datadir"
)

// piece is one piece of a registered torrent, created on demand by the
// engine.
type piece struct {
	s     *Store
	ts    *torrentState
	index int
	off   int64 // in the torrent
	len   int64
	// closed is closed when the engine closes the torrent's storage (it
	// dropped the torrent).
	closed <-chan struct{}
}

var _ interface {
	storage.PieceImpl
	io.WriterTo
} = (*piece)(nil)

func (p *piece) Completion() storage.Completion { return p.ts.completion(p.index) }

// ReadAt reads piece data for a peer (the engine hashes through WriteTo).
// A missing or short file is an error, never zeros: unwritten data must
// not hash as if it were there. The read waits for the recovery send
// limiter if another node is recovering the torrent.
//
// The engine (v1.61.0) panics when a read for a peer fails and the
// torrent was closed (dropped: a pause, a removal, unavailable) before the
// reading goroutine takes the client lock again: servePeerRequest neither
// rejects nor keeps the failed request, and its deferred check panics. So
// a read never fails across a close: one that finds the torrent closed
// (after its limiter wait, or after it failed) answers zeros and no error,
// which is never sent (the engine closed the torrent's connections in the
// same locked close), and a failed read first waits up to
// Options.FailedReadHold for a close (heldRead; a missing data directory,
// on which the seeder drops the torrent, Options.DirMissingHold).
func (p *piece) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 || off > p.len {
		return 0, fmt.Errorf("seeder store: read piece %d of %s at %d: out of range", p.index, p.ts.name, off)
	}
	eof := int64(len(b)) > p.len-off
	if eof {
		b = b[:p.len-off]
	}
	if off == 0 && int64(len(b)) < p.len {
		p.s.readAhead(p.ts, p.off, p.len) // a peer starts on this piece
	}
	p.s.waitRecoverySend(p.ts, len(b), p.closed)
	var n int
	var err error
	if p.isClosed() {
		err = errClosedRead
	} else {
		n, err = p.s.readAt(p.ts, b, p.off+off)
	}
	if err != nil {
		hold := p.s.failedReadHold
		switch {
		case err == errClosedRead:
		case errors.Is(err, datadir.ErrDataDirMissing):
			if p.s.onDirMissing != nil {
				p.s.onDirMissing(p.ts.id, err)
			}
			hold = p.s.dirMissingHold
		default:
			if p.s.onReadFailed != nil {
				p.s.onReadFailed(p.ts.id, err)
			}
		}
		if p.heldRead(hold) {
			clear(b)
			n, err = len(b), nil
		}
	}
	if err == nil && eof {
		err = io.EOF
	}
	return n, err
}

// errClosedRead: the torrent was closed before the read began (never
// returned: a closed torrent's read answers zeros).
var errClosedRead = errors.New("torrent closed")

func (p *piece) isClosed() bool {
	if p.closed == nil {
		return false
	}
	select {
	case <-p.closed:
		return true
	default:
		return false
	}
}

// heldRead holds a peer's read that failed until the engine closes the
// torrent's storage, for at most hold, and reports whether it closed.
func (p *piece) heldRead(hold time.Duration) bool {
	if p.closed == nil {
		return false
	}
	if p.isClosed() {
		return true
	}
	t := time.NewTimer(hold)
	defer t.Stop()
	select {
	case <-p.closed:
		return true
	case <-t.C:
		return false
	}
}

// WriteAt writes piece data, creating files and directories as needed.
func (p *piece) WriteAt(b []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(b)) > p.len {
		return 0, fmt.Errorf("seeder store: write piece %d of %s at %d+%d: out of range", p.index, p.ts.name, off, len(b))
	}
	if p.ts.mayBeDBComplete(p.index) {
		return 0, fmt.Errorf("seeder store: write piece %d of %s: %w (the catalog may still record it complete: its not-complete state must be durable before it is rewritten)",
			p.index, p.ts.name, ErrNotDurable)
	}
	if p.s.onWrite != nil {
		p.s.onWrite(p.ts.id, p.index)
	}
	p.s.waitRecovery(p.ts, len(b))
	p.s.mu.Lock()
	p.s.noteGenLocked(p.ts, p.index)
	p.s.mu.Unlock()
	n, err := p.s.writeAt(p.ts, b, p.off+off)
	if err == nil && p.s.onWritten != nil {
		p.s.onWritten(p.ts.id)
	}
	return n, err
}

// WriteTo streams the whole piece (the engine hashes through this).
func (p *piece) WriteTo(w io.Writer) (int64, error) {
	buf := make([]byte, min(p.len, 1<<20))
	var done int64
	for done < p.len {
		n, err := p.s.readAt(p.ts, buf[:min(int64(len(buf)), p.len-done)], p.off+done)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			done += int64(m)
			if werr != nil {
				return done, werr
			}
		}
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// MarkComplete is called by the engine after the piece hashed correctly.
// It is recorded in the catalog at the next group commit, after fsync.
func (p *piece) MarkComplete() error { return p.s.markComplete(p.ts, p.index) }

// MarkNotComplete is called by the engine when the piece failed its hash
// (or reading it failed). If the catalog may record the piece complete,
// it says otherwise before this returns; if it is unreachable, writes to
// the piece are refused (ErrNotDurable) until it does. Other pieces are
// recorded at the next group commit.
func (p *piece) MarkNotComplete() error {
	ctx, cancel := p.s.syncContext()
	defer cancel()
	err := p.s.markNotComplete(ctx, p.ts, []int{p.index}, false)
	if errors.Is(err, ErrNotDurable) {
		p.s.log.Warn().Err(err).Int("piece", p.index).Str("torrent", p.ts.hexHash()).Str("name", p.ts.name).Msg("piece not complete, recorded later")
	}
	return err
}
