package scrub

import (
	"os"
	"path/filepath"
	"testing"
)

// shrinkingOpener truncates each file right after it is mapped: touching
// the mapping then raises SIGBUS, which must become an io_error finding.
type shrinkingOpener struct {
	Opener
	dir string
}

type shrinkingReader struct {
	Reader
	path string
}

func (o shrinkingOpener) Open(rel string) (Reader, error) {
	r, err := o.Opener.Open(rel)
	if err != nil {
		return nil, err
	}
	return shrinkingReader{r, filepath.Join(o.dir, rel)}, nil
}

func (r shrinkingReader) Map(off, n int64) ([]byte, func(), error) {
	data, release, err := r.Reader.(Mapper).Map(off, n)
	if err == nil {
		err = os.Truncate(r.path, 0)
	}
	return data, release, err
}

func TestScrubMappedFileTruncatedUnderneathIsIOErrorNotACrash(t *testing.T) {
	t.Parallel()
	tg := makeData(t, 16<<10, 100_000)
	open := func(dir string) (Opener, error) {
		o, err := DirOpener(dir)
		return shrinkingOpener{o, dir}, err
	}
	s := scrubAll(t, tg, Options{Open: open, Map: true})
	if len(badPieces(s, IOError)) != tg.NumPieces() || s.BytesHashed != 0 {
		t.Fatalf("bad %+v", s.Bad)
	}
}

func TestScrubPreadAndMapAgree(t *testing.T) {
	t.Parallel()
	tg := makeData(t, 16<<10, 100_000, 3, 77_777)
	flipByte(t, tg, 50_000)
	a := scrubAll(t, tg, Options{Map: true})
	b := scrubAll(t, tg, Options{})
	if len(a.Bad) != 1 || len(b.Bad) != 1 || a.Bad[0] != b.Bad[0] || a.BytesHashed != b.BytesHashed {
		t.Fatalf("mmap %+v, pread %+v", a.Bad, b.Bad)
	}
}
