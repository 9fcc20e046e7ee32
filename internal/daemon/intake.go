package daemon

import (
	"context"
	"os"
	"sort"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/importer"
	"github.com/archivd/archivd/internal/intake"
)

// intakeSettle: events closer together than this are one import.
const intakeSettle = 200 * time.Millisecond

// badFile is a file of a torrent_dir already reported as not importable,
// by size and modification time: reported again only once it changes.
type badFile struct {
	size  int64
	mtime time.Time
}

// intakeLoop watches the torrent_dir of every collection the config
// declares and imports a .torrent within a second of it being written and
// closed, or renamed in. A reload (wake) rebuilds the watches.
func (d *Daemon) intakeLoop(ctx context.Context, wake <-chan struct{}) {
	bad := map[string]badFile{}
	for ctx.Err() == nil {
		dirs := map[string]string{} // torrent_dir -> collection
		for _, cc := range d.Config().Collections {
			if cc.TorrentDir != "" {
				dirs[cc.TorrentDir] = cc.Name
			}
		}
		d.watchDirs(ctx, dirs, wake, bad)
	}
}

// watchDirs watches dirs until ctx ends or wake.
func (d *Daemon) watchDirs(ctx context.Context, dirs map[string]string, wake <-chan struct{}, bad map[string]badFile) {
	list := make([]string, 0, len(dirs))
	for dir := range dirs {
		list = append(list, dir)
	}
	sort.Strings(list)
	w, err := intake.New(list)
	if err != nil {
		d.log.Warn().Err(err).Msg("intake: torrent_dir not watched: new files there are imported at the next start or reload")
	}
	if w == nil {
		select {
		case <-ctx.Done():
		case <-wake:
		}
		return
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			d.log.Error().Err(err).Msg("intake: watcher stopped")
		}
	}()
	if len(list) > 0 {
		d.log.Info().Strs("dirs", list).Msg("intake: watching torrent_dir")
	}
	pending := map[string]bool{}
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
			return
		case err := <-done:
			done <- err
			return
		case dir := <-w.Ready():
			pending[dir] = true
			settle.Reset(intakeSettle)
		case <-settle.C:
			for dir := range pending {
				d.intakeDir(ctx, dirs[dir], dir, bad)
			}
			clear(pending)
		}
	}
}

// intakeDir imports the new files of one torrent_dir (incrementally: the
// importer skips files it recorded unchanged).
func (d *Daemon) intakeDir(ctx context.Context, collection, dir string, bad map[string]badFile) {
	log := d.log.With().Str("collection", collection).Str("torrent_dir", dir).Logger()
	coll, err := d.DB.Collection(ctx, collection)
	if err != nil {
		log.Error().Err(err).Msg("intake: collection not found; is it applied?")
		return
	}
	res, err := importer.ImportDir(ctx, d.DB, d.Config().ResolvedDataDir(), coll, dir, "config")
	if err != nil {
		log.Error().Err(err).Msg("intake: import torrent_dir")
	}
	for _, im := range res.Imported {
		log.Info().Str("name", im.Torrent.Name).Str("torrent", im.Torrent.HexHash()).Msg("intake: torrent imported")
		for _, w := range im.Warnings {
			log.Warn().Str("torrent", im.Torrent.HexHash()).Msg(w)
		}
	}
	for _, f := range res.Failed {
		d.reportBad(ctx, coll, f, bad)
	}
}

// reportBad logs and records a file that cannot be imported, once per
// version of the file.
func (d *Daemon) reportBad(ctx context.Context, coll catalog.Collection, f importer.Failed, bad map[string]badFile) {
	var now badFile
	if fi, err := os.Stat(f.Path); err == nil {
		now = badFile{size: fi.Size(), mtime: fi.ModTime()}
	}
	if was, ok := bad[f.Path]; ok && was == now {
		return
	}
	bad[f.Path] = now
	// The event first, then the line: whoever reads the line finds the
	// event in the catalog.
	err := d.DB.AddCollectionEvent(ctx, coll.ID, "torrent_dir_file_refused", f.Err.Error(), map[string]any{"file": f.Path})
	if err != nil && ctx.Err() == nil {
		d.log.Error().Err(err).Str("collection", coll.Name).Str("file", f.Path).Msg("intake: record event of a refused file")
	}
	d.log.Error().Err(f.Err).Str("collection", coll.Name).Str("file", f.Path).
		Msg("intake: torrent not imported; left alone until the file changes")
}
