// Command fleetrows fills a catalog with a synthetic fleet, for measuring
// the catalog's queries, a node's reconcile and the planner at scale
// (issue 12: 10 nodes x 100,000 torrents at 3 replicas).
//
//	fleetrows -db URL -dir DATA [-nodes 10] [-torrents 100000] [-replicas 3] [-local node1]
//	fleetrows -db URL -dir DATA -add 100000 -on node10
//
// The first form registers nodes node1..nodeN (zones z0, z1, z2 by index
// modulo 3; each with one data root of 10 TB free) except -local, the
// node an `archivd serve` will run as, creates collection -collection with
// replicas_min = replicas_max = -replicas, and adds -torrents one-piece
// torrents of -size bytes: torrent i on nodes i, i+1, ... (modulo N), every
// piece recorded complete on each. Only -local's torrents get their data
// written (DATA/NNN/, 1,000 per directory). The second form adds -add more
// torrents on node -on alone (numbered after those present), no data
// written: new torrents for the planner to place.
//
// The synthetic nodes are up for the catalog's TTL (30 s) after the run:
// keep them up with `archivd`-less heartbeats (the bench harness touches
// them every few seconds).
package main

import (
	"context"
	"crypto/sha1"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/importer"
	"github.com/archivd/archivd/internal/torrentfile"
)

type options struct {
	url, dir, coll, local, on string
	nodes, torrents, replicas int
	add, size                 int
	capacity, free            int64
}

func main() {
	var o options
	flag.StringVar(&o.url, "db", "", "catalog URL")
	flag.StringVar(&o.dir, "dir", "", "data directory (the local node's data, and every torrent's data_dir)")
	flag.IntVar(&o.nodes, "nodes", 10, "nodes")
	flag.IntVar(&o.torrents, "torrents", 100000, "torrents")
	flag.IntVar(&o.replicas, "replicas", 3, "replicas per torrent (collection replicas_min and replicas_max)")
	flag.StringVar(&o.local, "local", "node1", "the node archivd serve runs as: its torrents' data is written, its row is not made")
	flag.StringVar(&o.coll, "collection", "fleet", "collection (created)")
	flag.IntVar(&o.size, "size", 16384, "bytes per torrent (one piece)")
	flag.IntVar(&o.add, "add", 0, "add this many new torrents on node -on only (no data written)")
	flag.StringVar(&o.on, "on", "", "the node the -add torrents are on")
	flag.Int64Var(&o.capacity, "capacity", 12<<40, "capacity of each synthetic node's data root, bytes")
	flag.Int64Var(&o.free, "free", 10<<40, "free space of each synthetic node's data root, bytes")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "fleetrows:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	switch {
	case o.url == "" || o.dir == "":
		return fmt.Errorf("-db and -dir are needed")
	case o.size <= 0 || o.nodes <= 0 || o.replicas <= 0 || o.replicas > o.nodes:
		return fmt.Errorf("-size, -nodes and -replicas must be positive, -replicas at most -nodes")
	case o.add > 0 && o.on == "":
		return fmt.Errorf("-add needs -on NODE")
	}
	db, err := catalog.Open(ctx, o.url)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	if o.add > 0 {
		first, _, err := db.TorrentTotals(ctx)
		if err != nil {
			return err
		}
		err = addTorrents(ctx, db, o, int(first), o.add, func(int) []string { return []string{o.on} })
		if err != nil {
			return err
		}
		fmt.Printf("%d new torrents on %s (%s)\n", o.add, o.on, time.Since(start).Round(time.Millisecond))
		return nil
	}
	if err := makeNodes(ctx, db, o); err != nil {
		return err
	}
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: o.coll, DataRoot: o.dir,
		ReplicasMin: o.replicas, ReplicasMax: o.replicas}); err != nil {
		return err
	}
	err = addTorrents(ctx, db, o, 0, o.torrents, func(i int) []string {
		var on []string
		for k := range o.replicas {
			on = append(on, nodeName((i+k)%o.nodes))
		}
		return on
	})
	if err != nil {
		return err
	}
	fmt.Printf("%d nodes, %d torrents at %d replicas (%d bytes each), local node %s's data in %s (%s)\n",
		o.nodes, o.torrents, o.replicas, o.size, o.local, o.dir, time.Since(start).Round(time.Millisecond))
	return nil
}

func nodeName(i int) string { return fmt.Sprintf("node%d", i+1) }

// makeNodes registers every node but the local one, up, with a zone and
// one data root.
func makeNodes(ctx context.Context, db *catalog.DB, o options) error {
	for i := range o.nodes {
		id := nodeName(i)
		if id == o.local {
			continue
		}
		if _, err := db.StartNode(ctx, id, "synthetic"); err != nil {
			return err
		}
		if err := db.HeartbeatNode(ctx, id, catalog.NodeInfo{Name: id, Zone: fmt.Sprintf("z%d", i%3), Version: "synthetic"}); err != nil {
			return err
		}
		root := catalog.NodeDataRoot{Path: "/srv/" + id, Device: id, CapacityBytes: o.capacity, FreeBytes: o.free}
		if err := db.SetNodeDataRoots(ctx, id, []catalog.NodeDataRoot{root}); err != nil {
			return err
		}
	}
	return nil
}

// addTorrents adds torrents first..first+n-1, each on the nodes on(i)
// (the first holds the row's replica, AlsoOn the rest), in batches of
// 2,000, writing the data of those on the local node.
func addTorrents(ctx context.Context, db *catalog.DB, o options, first, n int, on func(int) []string) error {
	const batch = 2000
	for b := first; b < first+n; b += batch {
		byNode := map[string][]catalog.NewTorrent{}
		for i := b; i < min(first+n, b+batch); i++ {
			nodes := on(i)
			nt, err := makeOne(o, i, slices.Contains(nodes, o.local))
			if err != nil {
				return err
			}
			nt.AlsoOn = nodes[1:]
			byNode[nodes[0]] = append(byNode[nodes[0]], nt)
		}
		for node, ns := range byNode {
			if _, err := db.ForNode(node).AddTorrents(ctx, ns); err != nil {
				return err
			}
		}
	}
	return nil
}

// makeOne returns torrent i's catalog row (every piece complete), and
// writes its data when write is set.
func makeOne(o options, i int, write bool) (catalog.NewTorrent, error) {
	sub := filepath.Join(o.dir, fmt.Sprintf("%03d", i/1000))
	data := make([]byte, o.size)
	binary.BigEndian.PutUint64(data, uint64(i))
	copy(data[8:], o.coll)
	name := fmt.Sprintf("fleet-%07d.bin", i)
	if write {
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return catalog.NewTorrent{}, err
		}
		if err := os.WriteFile(filepath.Join(sub, name), data, 0o644); err != nil {
			return catalog.NewTorrent{}, err
		}
	}
	sum := sha1.Sum(data)
	info := metainfo.Info{Name: name, Length: int64(o.size), PieceLength: int64(o.size), Pieces: sum[:]}
	ib, err := bencode.Marshal(info)
	if err != nil {
		return catalog.NewTorrent{}, err
	}
	raw, err := bencode.Marshal(metainfo.MetaInfo{InfoBytes: ib})
	if err != nil {
		return catalog.NewTorrent{}, err
	}
	t, err := torrentfile.Parse(raw)
	if err != nil {
		return catalog.NewTorrent{}, err
	}
	nt := importer.NewTorrentOf(t, o.coll, t.DataDirFor(sub))
	nt.Verified = true
	return nt, nil
}
