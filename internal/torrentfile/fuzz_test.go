package torrentfile

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics, and whatever it accepts is consistent and
// safe to lay out on disk. Seeds are in testdata/fuzz/FuzzParse (torrents
// from mktorrent, libtorrent and Create, plus malformed ones).
func FuzzParse(f *testing.F) {
	f.Add([]byte("d4:infod6:lengthi100e4:name8:file.bin12:piece lengthi64e6:pieces40:" + piecesFor(2) + "ee"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		tor, err := Parse(raw)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		checkAccepted(t, tor)
		again, err := Parse(bytes.Clone(raw))
		if err != nil || again.InfoHash != tor.InfoHash {
			t.Fatalf("second Parse differs: %v", err)
		}
	})
}

func checkAccepted(t *testing.T, tor *Torrent) {
	if tor.PieceLength <= 0 || tor.TotalLength <= 0 || len(tor.Files) == 0 {
		t.Fatalf("accepted piece length %d total %d files %d", tor.PieceLength, tor.TotalLength, len(tor.Files))
	}
	if err := checkComponent(tor.Name); err != nil {
		t.Fatalf("accepted name %q: %v", tor.Name, err)
	}
	v1Only := tor.InfoHashV2 == nil
	var sum, next int64
	for i, f := range tor.Files {
		if f.Index != i || f.Length < 0 || f.Offset < next || (v1Only && f.Offset != next) {
			t.Fatalf("file %d %+v inconsistent (next offset %d)", i, f, next)
		}
		next, sum = f.Offset+f.Length, sum+f.Length
		if err := checkPath(strings.Split(f.Path, "/")); err != nil {
			t.Fatalf("accepted unsafe path: %v", err)
		}
		full := filepath.Join(tor.DataDirFor("/base"), filepath.FromSlash(f.Path))
		if rel, err := filepath.Rel("/base", full); err != nil || !filepath.IsLocal(rel) {
			t.Fatalf("file %q lands outside the parent: %s", f.Path, full)
		}
	}
	if err := checkAliases(tor.Files); err != nil {
		t.Fatalf("accepted aliasing files: %v", err)
	}
	if sum != tor.TotalLength {
		t.Fatalf("file lengths sum to %d, total %d", sum, tor.TotalLength)
	}
	if v1Only {
		if int64(tor.PieceCount) != ceilDiv(sum, tor.PieceLength) || tor.PieceCount*20 != len(tor.Info.Pieces) {
			t.Fatalf("%d pieces (%d hash bytes) for %d bytes at %d", tor.PieceCount, len(tor.Info.Pieces), sum, tor.PieceLength)
		}
	} else if len(tor.InfoHashV2) != 32 {
		t.Fatalf("v2 hash of %d bytes", len(tor.InfoHashV2))
	}
}

// FuzzParseMagnet: ParseMagnet never panics, errors are one line, and an
// accepted link has its Raw and absolute tracker/web seed URLs.
func FuzzParseMagnet(f *testing.F) {
	f.Add("magnet:?xt=urn:btih:" + testHex + "&dn=x&tr=http://127.0.0.1:1/a&ws=http://127.0.0.1/w")
	f.Fuzz(func(t *testing.T, uri string) {
		m, err := ParseMagnet(uri)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if m.Raw != uri {
			t.Fatalf("Raw %q != %q", m.Raw, uri)
		}
		for _, u := range append(m.Trackers, m.WebSeeds...) {
			if !strings.Contains(u, ":") {
				t.Fatalf("accepted non-absolute URL %q", u)
			}
		}
	})
}
