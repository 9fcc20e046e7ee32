package main

import (
	"context"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/human"
	"github.com/archivd/archivd/internal/importer"
	"github.com/spf13/cobra"
)

type addOptions struct {
	Collection  string
	Sources     []string
	PieceLength string // byte size, "" = chosen from the total size
	Trackers    []string
	WebSeeds    []string
	Out         string // where to write a created .torrent
	Name        string // name of a created torrent
	Comment     string
	Private     bool
	pieceLength int64
}

func newAddCmd(a *app) *cobra.Command {
	var o addOptions
	cmd := &cobra.Command{
		Use:   "add --collection C SOURCE...",
		Short: "Add torrents from .torrent files, magnet links, or local data",
		Long: `Add torrents to a collection. Each SOURCE is
  - a .torrent file: its data goes to <collection data root>/<name>
    (existing data there is adopted and hashed by the daemon at start);
  - a magnet link: metadata is fetched by the daemon; data in
    <collection data root>/<dn or infohash>;
  - a local directory or file: archivd creates a v1 torrent of it and
    seeds the data where it lies, recorded as verified.
Each source is added in its own transaction: a bad source adds nothing and
makes the exit code non-zero, the others are still added.`,
		Args: minArgs(1, "at least one SOURCE (.torrent file, magnet link, directory or file)"),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			o.Sources = args
			return o.validate()
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runAdd(cmd.Context(), a, o) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.Collection, "collection", "c", "", "collection to add to (required)")
	f.StringVar(&o.PieceLength, "piece-length", "", "piece length of created torrents, a power of two >= 16KiB (default: by size)")
	f.StringArrayVar(&o.Trackers, "tracker", nil, "announce URL (repeatable)")
	f.StringArrayVar(&o.WebSeeds, "web-seed", nil, "HTTP web seed URL (repeatable)")
	f.StringVarP(&o.Out, "out", "o", "", "also write the created .torrent to this file (one local source only)")
	f.StringVar(&o.Name, "name", "", "name of the created torrent (one local directory only; default its base name)")
	f.StringVar(&o.Comment, "comment", "", "comment of created torrents")
	f.BoolVar(&o.Private, "private", false, "create private torrents (no DHT/PEX)")
	return cmd
}

func (o *addOptions) validate() error {
	if o.Collection == "" {
		return usageErrorf("add: --collection is required")
	}
	if len(o.Sources) == 0 {
		return usageErrorf("add: no SOURCE given")
	}
	if (o.Out != "" || o.Name != "") && len(o.Sources) != 1 {
		return usageErrorf("add: --out and --name need exactly one SOURCE, got %d", len(o.Sources))
	}
	if o.PieceLength != "" {
		n, err := config.ParseByteSize(o.PieceLength)
		if err != nil {
			return usageErrorf("add: --piece-length: %v", err)
		}
		o.pieceLength = int64(n)
	}
	if err := checkHTTPURLs("--web-seed", o.WebSeeds); err != nil {
		return fmt.Errorf("add: %w", err)
	}
	return nil
}

func runAdd(ctx context.Context, a *app, o addOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	return a.withCatalog(ctx, "add", func(db *catalog.DB) error {
		coll, err := db.Collection(ctx, o.Collection)
		if err != nil {
			return fmt.Errorf("add: %w", err)
		}
		var failed []error
		for _, src := range o.Sources {
			if err := addSource(ctx, a, db, coll, o, src); err != nil {
				if len(o.Sources) == 1 {
					return err
				}
				fmt.Fprintln(a.stderr, errorLine(err))
				failed = append(failed, err)
			}
		}
		if len(failed) > 0 {
			return withCode(exitCode(failed[0]), fmt.Errorf("add: %d of %d sources failed and were not added (%d added)",
				len(failed), len(o.Sources), len(o.Sources)-len(failed)))
		}
		return nil
	})
}

func addSource(ctx context.Context, a *app, db *catalog.DB, coll catalog.Collection, o addOptions, src string) error {
	precheck := func(nt catalog.NewTorrent) error { return importer.CheckOverlap(ctx, db, nt) }
	c, err := prepareSource(ctx, a, coll, o, src, precheck)
	if err != nil {
		return fmt.Errorf("add %s: %w", src, err)
	}
	t, err := importer.Add(ctx, db, c.nt)
	if err != nil {
		return fmt.Errorf("add %s: %w", src, err)
	}
	if o.Out != "" && c.created {
		if err := writeTorrentFile(o.Out, c.raw); err != nil {
			if derr := db.DeleteTorrent(ctx, t.ID); derr != nil {
				return fmt.Errorf("add %s: %w (and removing it from the catalog again failed: %v)", src, err, derr)
			}
			return fmt.Errorf("add %s: not added: %w", src, err)
		}
	}
	a.printf("added %s (%s) to %s: %s, %d files, data in %s (%s)\n", orDash(t.Name), t.HexHash(), coll.Name,
		human.Bytes(t.TotalLength), len(c.nt.Files), t.DataDir, c.note())
	for _, w := range importer.Warnings(c.nt) {
		fmt.Fprintln(a.stderr, "warning: "+w)
	}
	return nil
}

func (c candidate) note() string {
	switch {
	case c.created:
		return "verified"
	case c.nt.Metainfo == nil:
		return "metadata will be fetched by the daemon"
	default:
		return "existing data is hashed by the daemon at start"
	}
}
