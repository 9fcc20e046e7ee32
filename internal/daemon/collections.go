package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/importer"
	"github.com/archivd/archivd/internal/logging"
	"github.com/rs/zerolog"
)

// reconcileCollections applies the collections the config declares to the
// catalog: creates or updates them (source "config"), imports new .torrent
// files of their torrent_dir, and with prune_collections removes config
// collections the file no longer declares. Collections made with the CLI
// are left alone. Problems with one collection or file are logged and the
// rest goes on; only an unreachable catalog is returned.
func reconcileCollections(ctx context.Context, db *catalog.DB, cfg *config.Config, log zerolog.Logger) error {
	declared := map[string]bool{}
	for _, cc := range cfg.Collections {
		declared[cc.Name] = true
		coll, err := applyCollection(ctx, db, cc, log)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			log.Error().Err(err).Str("collection", cc.Name).Msg("config collection not applied")
			continue
		}
		if cc.TorrentDir != "" {
			importDir(ctx, db, cfg.ResolvedDataDir(), coll, cc.TorrentDir, log)
		}
	}
	if cfg.PruneCollections {
		return pruneCollections(ctx, db, declared, log)
	}
	return nil
}

func applyCollection(ctx context.Context, db *catalog.DB, cc config.CollectionConfig, log zerolog.Logger) (catalog.Collection, error) {
	policy, err := json.Marshal(cc.Verify)
	if err != nil || cc.Verify == nil {
		policy = []byte("{}")
	}
	want := catalog.Collection{Name: cc.Name, Description: cc.Description, DataRoot: cc.DataRoot,
		Source: "config", WebSeeds: cc.WebSeeds, VerifyPolicy: policy,
		ReplicasMin: max(cc.ReplicasMin, 1), ReplicasMax: max(cc.ReplicasMax, cc.ReplicasMin, 1)}
	if want.WebSeeds == nil {
		want.WebSeeds = []string{}
	}
	have, err := db.Collection(ctx, cc.Name)
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		c, err := db.CreateCollection(ctx, want)
		if err == nil {
			log.Info().Str("collection", cc.Name).Msg("config collection created")
		}
		return c, err
	case err != nil:
		return catalog.Collection{}, err
	case have.Source != "config":
		return catalog.Collection{}, errors.New("a collection of that name was created with the CLI: the config leaves it alone (rename one of them)")
	case have.ReplicasMin != want.ReplicasMin || have.ReplicasMax != want.ReplicasMax:
		if err := db.SetCollectionReplicas(ctx, cc.Name, catalog.ReplicaPolicy{Min: &want.ReplicasMin, Max: &want.ReplicasMax}); err != nil {
			return catalog.Collection{}, err
		}
		log.Info().Str("collection", cc.Name).Int("replicas_min", want.ReplicasMin).Int("replicas_max", want.ReplicasMax).
			Msg("config collection replicas set")
		return applyCollection(ctx, db, cc, log)
	case have.Description != want.Description || have.DataRoot != want.DataRoot ||
		!slices.Equal(have.WebSeeds, want.WebSeeds) || !jsonEqual(have.VerifyPolicy, want.VerifyPolicy):
		if err := db.UpdateCollection(ctx, want); err != nil {
			return catalog.Collection{}, err
		}
		log.Info().Str("collection", cc.Name).Msg("config collection updated")
		return db.Collection(ctx, cc.Name)
	}
	return have, nil
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// importDir imports every *.torrent of dir not yet in the catalog; files
// imported before and unchanged are not read again.
func importDir(ctx context.Context, db *catalog.DB, dataDir string, coll catalog.Collection, dir string, log zerolog.Logger) {
	res, err := importer.ImportDir(ctx, db, dataDir, coll, dir, "config")
	if err != nil {
		log.Error().Err(err).Str("collection", coll.Name).Str("torrent_dir", dir).Msg("config collection: cannot import torrent_dir")
	}
	for _, f := range res.Failed {
		log.Error().Err(f.Err).Str("collection", coll.Name).Str("file", f.Path).Msg("config collection: torrent not imported")
	}
	for _, im := range res.Imported {
		t := im.Torrent
		log.Info().Str("collection", coll.Name).Str("name", t.Name).Str("torrent", t.HexHash()).Msg("config collection: torrent imported")
		for _, w := range im.Warnings {
			log.Warn().Str("collection", coll.Name).Str("torrent", t.HexHash()).Msg(w)
		}
	}
	if len(res.Imported) > 0 || res.Read > 0 {
		log.Info().Str("collection", coll.Name).Int("files", res.Files).Int("read", res.Read).
			Int("imported", len(res.Imported)).Int64("up_ms", logging.UpMs()).Msg("config collection: torrent_dir imported")
	}
}

func pruneCollections(ctx context.Context, db *catalog.DB, declared map[string]bool, log zerolog.Logger) error {
	all, err := db.Collections(ctx)
	if err != nil {
		return err
	}
	for _, c := range all {
		if c.Source != "config" || declared[c.Name] {
			continue
		}
		n, err := db.DeleteCollectionWithTorrents(ctx, c.Name)
		if err != nil {
			log.Error().Err(err).Str("collection", c.Name).Msg("prune config collection")
			continue
		}
		log.Info().Str("collection", c.Name).Int("torrents", n).Msg("config collection no longer declared: removed from the catalog (data kept)")
	}
	return nil
}
