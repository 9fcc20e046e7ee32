package torrentfile

import (
	"context"
	"fmt"
	"runtime"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// CreateOptions describes a torrent to create from data on disk.
type CreateOptions struct {
	// Path is a directory (multi-file torrent named after it) or one
	// regular file (single-file torrent).
	Path string
	// Name is the torrent's name; "" = the base name of Path. A different
	// name means the data must be stored under that name to be seeded.
	Name string
	// PieceLength must be a power of two >= 16 KiB; 0 = ChoosePieceLength.
	PieceLength int64
	Trackers    []string
	WebSeeds    []string
	Comment     string
	Private     bool
	// Workers is the number of hashing goroutines; 0 = runtime.NumCPU().
	Workers int
	// Progress, if not nil, is called from one goroutine (Create's) after
	// each hashed block of a few MiB, and once at the end with hashed==total.
	Progress func(hashed, total int64)
}

// Create hashes the data at o.Path and returns the new torrent, parsed back
// through Parse so that it passed the same checks as an imported one. The
// output has no creation date, so the same data and options always give the
// same bytes.
func Create(ctx context.Context, o CreateOptions) (*Torrent, error) {
	p, err := planCreate(o)
	if err != nil {
		return nil, fmt.Errorf("create torrent: %w", err)
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	pieces, err := hashPlan(ctx, p, workers, o.Progress)
	if err != nil {
		return nil, fmt.Errorf("create torrent %s: %w", o.Path, err)
	}
	raw, err := encodeTorrent(p, pieces, o)
	if err != nil {
		return nil, fmt.Errorf("create torrent %s: %w", o.Path, err)
	}
	t, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("create torrent %s: own output does not parse: %w", o.Path, err)
	}
	return t, nil
}

type encFile struct {
	Length int64    `bencode:"length"`
	Path   []string `bencode:"path"`
}

// encInfo is the v1 info dictionary as archivd writes it: only BEP 3 and
// BEP 27 fields, so the infohash does not depend on library defaults.
type encInfo struct {
	Files       []encFile `bencode:"files,omitempty"`
	Length      int64     `bencode:"length,omitempty"`
	Name        string    `bencode:"name"`
	PieceLength int64     `bencode:"piece length"`
	Pieces      []byte    `bencode:"pieces"`
	Private     int64     `bencode:"private,omitempty"`
}

func encodeTorrent(p *plan, pieces []byte, o CreateOptions) ([]byte, error) {
	info := encInfo{Name: p.name, PieceLength: p.pieceLength, Pieces: pieces}
	if p.single {
		info.Length = p.total
	} else {
		for _, f := range p.files {
			info.Files = append(info.Files, encFile{Length: f.length, Path: f.parts})
		}
	}
	if o.Private {
		info.Private = 1
	}
	infoBytes, err := bencode.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("encode info: %w", err)
	}
	mi := metainfo.MetaInfo{InfoBytes: infoBytes, Comment: o.Comment, CreatedBy: "archivd", UrlList: o.WebSeeds}
	if len(o.Trackers) > 0 {
		mi.Announce = o.Trackers[0]
	}
	if len(o.Trackers) > 1 {
		for _, tr := range o.Trackers {
			mi.AnnounceList = append(mi.AnnounceList, []string{tr})
		}
	}
	raw, err := bencode.Marshal(mi)
	if err != nil {
		return nil, fmt.Errorf("encode metainfo: %w", err)
	}
	return raw, nil
}
