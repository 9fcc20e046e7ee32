// Package torrentfile reads, validates and creates .torrent files and magnet
// links. Everything that enters the catalog passes through Parse, so Parse is
// strict: a torrent whose paths could escape its data directory, whose files
// alias each other, or whose piece hashes cannot match its lengths is refused
// with a one-line error naming what is wrong.
package torrentfile

import (
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/anacrolix/torrent/metainfo"
)

// File is one file of a torrent, in torrent order.
type File struct {
	Index int
	// Path is '/'-separated and relative to the torrent's data directory
	// (see DataDirFor); for a single-file torrent it is the torrent's Name.
	Path   string
	Length int64
	// Offset is the file's byte offset in the torrent's concatenated data.
	Offset int64
}

// Torrent is a parsed and validated .torrent file.
type Torrent struct {
	Raw      []byte // the .torrent bytes as stored in the catalog
	MetaInfo *metainfo.MetaInfo
	Info     metainfo.Info
	// InfoHash is the v1 infohash; for v2-only torrents the truncated v2 hash
	// (what the engine and trackers use).
	InfoHash [20]byte
	// InfoHashV2 is the 32-byte v2 infohash, or nil for v1-only torrents.
	InfoHashV2  []byte
	Name        string
	PieceLength int64
	PieceCount  int
	TotalLength int64
	Files       []File
	Trackers    []string
	WebSeeds    []string
}

// maxTorrentFile bounds what Load reads: a 16 MiB-piece torrent of 100 TiB
// has 120 MiB of piece hashes, anything much larger is not a .torrent.
const maxTorrentFile = 256 << 20

// Load reads the .torrent file at path and parses it strictly.
func Load(path string) (*Torrent, error) {
	raw, err := readLimited(path, maxTorrentFile)
	if err != nil {
		return nil, fmt.Errorf("torrent file %s: %w", path, err)
	}
	t, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("larger than %d MiB, not a .torrent file", limit>>20)
	}
	return raw, nil
}

// Parse keeps raw as Torrent.Raw; the caller must not modify it afterwards.
// Parse decodes a .torrent with anacrolix's metainfo package and then applies
// archivd's own validation (see validate.go).
func Parse(raw []byte) (*Torrent, error) {
	mi, info, err := Decode(raw)
	if err != nil {
		return nil, err
	}
	l, err := validateInfo(mi, &info)
	if err != nil {
		return nil, fmt.Errorf("torrent file: %w", err)
	}
	t := &Torrent{
		Raw:         raw,
		MetaInfo:    mi,
		Info:        info,
		Name:        info.BestName(),
		PieceLength: info.PieceLength,
		PieceCount:  l.pieceCount,
		TotalLength: l.total,
		Files:       l.files,
		Trackers:    mi.UpvertedAnnounceList().DistinctValues(),
		WebSeeds:    nonEmpty(mi.UrlList),
	}
	setHashes(t, l.v1)
	return t, nil
}

func setHashes(t *Torrent, hasV1 bool) {
	if t.Info.HasV2() {
		h := sha256.Sum256(t.MetaInfo.InfoBytes)
		t.InfoHashV2 = h[:]
		copy(t.InfoHash[:], h[:20])
	}
	if hasV1 {
		t.InfoHash = sha1.Sum(t.MetaInfo.InfoBytes)
	}
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// DataDirFor returns the directory that holds the torrent's files when the
// torrent is stored under parent: parent/Name for a multi-file torrent,
// parent itself for a single-file torrent (whose one file is parent/Name).
func (t *Torrent) DataDirFor(parent string) string {
	if t.isDir() {
		return filepath.Join(parent, t.Name)
	}
	return parent
}

// isDir tells a multi-file torrent. A v2 file tree is always a dictionary,
// so the library calls every v2 torrent a directory; BEP 52 (and
// libtorrent) make a tree of one top-level file a single-file torrent,
// stored as parent/<file>, as v1 would. A hybrid follows its v1 fields
// (length or files), which v1 clients go by.
func (t *Torrent) isDir() bool {
	switch {
	case !t.Info.HasV2():
		return t.Info.IsDir()
	case len(t.Info.Files) != 0 || t.Info.Length != 0:
		return len(t.Info.Files) != 0
	}
	return len(t.Files) != 1 || strings.Contains(t.Files[0].Path, "/")
}
