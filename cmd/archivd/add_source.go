package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/importer"
	"github.com/archivd/archivd/internal/torrentfile"
)

// candidate is a source turned into a catalog row, not stored yet.
type candidate struct {
	nt      catalog.NewTorrent
	raw     []byte // .torrent bytes of a created torrent (for --out)
	created bool
}

// precheckFunc checks a torrent's location against the catalog before the
// expensive hashing of a created torrent.
type precheckFunc func(catalog.NewTorrent) error

func prepareSource(ctx context.Context, a *app, coll catalog.Collection, o addOptions, src string, precheck precheckFunc) (candidate, error) {
	if strings.HasPrefix(strings.ToLower(src), "magnet:") {
		return prepareMagnet(a, coll, o, src)
	}
	fi, err := os.Stat(src)
	if err != nil {
		return candidate{}, pathErr(err)
	}
	if fi.Mode().IsRegular() && strings.EqualFold(filepath.Ext(src), ".torrent") {
		return prepareImport(a, coll, o, src)
	}
	return prepareCreate(ctx, a, coll, o, src, fi.IsDir(), precheck)
}

// pathErr drops the operation and path an *fs.PathError repeats (the
// message already names the source) but keeps the errno for exit codes.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func prepareImport(a *app, coll catalog.Collection, o addOptions, src string) (candidate, error) {
	if o.Out != "" || o.Name != "" || o.pieceLength != 0 {
		return candidate{}, usageErrorf("--out, --name and --piece-length apply to created torrents, not to a .torrent file")
	}
	raw, err := os.ReadFile(src)
	if err != nil {
		return candidate{}, fmt.Errorf("read: %w", pathErr(err))
	}
	t, err := torrentfile.Parse(raw)
	if err != nil {
		return candidate{}, withCode(exitUsage, err)
	}
	nt := importer.NewTorrentOf(t, coll.Name, t.DataDirFor(collectionDataRoot(a, coll)))
	nt.Trackers = importer.Union(t.Trackers, o.Trackers)
	nt.WebSeeds = importer.Union(t.WebSeeds, o.WebSeeds)
	return candidate{nt: nt}, nil
}

func prepareMagnet(a *app, coll catalog.Collection, o addOptions, src string) (candidate, error) {
	m, err := torrentfile.ParseMagnet(src)
	if err != nil {
		return candidate{}, withCode(exitUsage, err)
	}
	// Without metadata single- and multi-file look alike: the magnet gets
	// its own directory either way, so it never shares one.
	dir := hex.EncodeToString(m.InfoHash[:])
	if safeComponent(m.Name) {
		dir = m.Name
	}
	return candidate{nt: catalog.NewTorrent{
		Collection: coll.Name, InfoHash: m.InfoHash, Name: m.Name, Magnet: m.Raw,
		DataDir:  filepath.Join(collectionDataRoot(a, coll), dir),
		Trackers: importer.Union(m.Trackers, o.Trackers), WebSeeds: importer.Union(m.WebSeeds, o.WebSeeds),
	}}, nil
}

func safeComponent(s string) bool {
	return s != "" && s != "." && s != ".." && len(s) <= 255 && !strings.ContainsAny(s, "/\\\x00")
}

func prepareCreate(ctx context.Context, a *app, coll catalog.Collection, o addOptions, src string, isDir bool, precheck precheckFunc) (candidate, error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return candidate{}, err
	}
	// Where the data will be, before hashing it: a directory is its own
	// data directory, a file lies in its parent.
	pre := catalog.NewTorrent{DataDir: abs, Name: filepath.Base(abs)}
	if !isDir {
		pre = catalog.NewTorrent{DataDir: filepath.Dir(abs), Name: pre.Name, Files: []catalog.File{{Path: pre.Name}}}
	}
	if err := precheck(pre); err != nil {
		return candidate{}, err
	}
	if o.Out != "" {
		if _, err := os.Lstat(o.Out); err == nil {
			return candidate{}, withCode(exitConflict, fmt.Errorf("--out %s already exists", o.Out))
		}
	}
	progress, finish := hashProgress(ctx, a, filepath.Base(abs))
	t, err := torrentfile.Create(ctx, torrentfile.CreateOptions{Path: abs, Name: o.Name, PieceLength: o.pieceLength,
		Trackers: o.Trackers, WebSeeds: o.WebSeeds, Comment: o.Comment, Private: o.Private, Progress: progress})
	finish()
	if err != nil {
		return candidate{}, createErr(err)
	}
	// The data is adopted where it lies: a directory is the data directory
	// itself, a file lies in its parent under the torrent's name.
	dataDir := abs
	if !t.Info.IsDir() {
		dataDir = filepath.Dir(abs)
		if t.Name != filepath.Base(abs) {
			return candidate{}, usageErrorf("--name %q: a single file keeps its own name (%s)", t.Name, filepath.Base(abs))
		}
	}
	nt := importer.NewTorrentOf(t, coll.Name, dataDir)
	nt.Verified = true
	return candidate{nt: nt, raw: t.Raw, created: true}, nil
}

// createErr classifies a torrentfile.Create failure: missing paths are not
// found, other system errors are failures, the rest is bad input.
func createErr(err error) error {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return withCode(exitNotFound, err)
	case errors.Is(err, context.Canceled), errors.As(err, &pe):
		return withCode(exitFailure, err)
	}
	return withCode(exitUsage, err)
}

// writeTorrentFile writes raw to path, refusing to replace a file.
func writeTorrentFile(path string, raw []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("write --out: %w", err)
	}
	if _, err := f.Write(raw); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write --out %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("write --out %s: %w", path, err)
	}
	return nil
}
